# Sphinx configuration for the ksvd-cinder release notes (reno).

extensions = ['reno.sphinxext']
source_suffix = '.rst'
master_doc = 'index'
project = 'ksvd-cinder Release Notes'
copyright = '2026, KSVD ksvd-cinder developers'
version = ''
release = ''
exclude_patterns = []
html_theme = 'alabaster'
html_static_path = []

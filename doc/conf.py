# Sphinx configuration for the ksvd-cinder operator documentation.
#
# The pages are Markdown (MyST); config-reference.rst renders every
# option from the oslo.config entry point, so it cannot go stale.

project = 'ksvd-cinder'
copyright = '2026, KSVD ksvd-cinder developers'
extensions = [
    'myst_parser',
    'oslo_config.sphinxext',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['build', 'requirements.txt']
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']
html_theme = 'alabaster'
# Links to files outside doc/ (the README, source files) are not pages.
suppress_warnings = []

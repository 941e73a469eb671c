# Copyright (c) 2026 KSVD ksvd-cinder developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.
"""Project-less v3 URLs (/v3/volumes) on cinder releases that lack them.

cinder 21 and later route both /v3/{project_id}/volumes and /v3/volumes
(microversion 3.67 made the project id optional); cinder 15 and 16 route
only the first, so a client whose endpoint is .../v3 (the ksvd-cinder CLI,
the ksvd-token plugin) got 404 on every call. Behind the auth filter the
caller's project is known: this filter puts it in the path when the first
path segment names one of the router's collections. On a cinder whose
router already has project-less routes it passes requests through.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_PROJECT = '{project_id}'


def _collections(router):
    """(first path segments after {project_id}, has project-less routes)."""
    names = set()
    projectless = False
    mapper = getattr(router, 'map', None)
    for route in getattr(mapper, 'matchlist', ()):
        parts = [p for p in (route.routepath or '').split('/') if p]
        if not parts:
            continue
        if parts[0] == _PROJECT:
            if len(parts) > 1 and '{' not in parts[1]:
                names.add(parts[1].split('.')[0])
        else:
            projectless = True
    return names, projectless


class ProjectURL(object):
    """WSGI middleware in front of cinder's v3 APIRouter."""

    def __init__(self, application):
        self.application = application
        self.collections, projectless = _collections(application)
        self.active = bool(self.collections) and not projectless
        if self.active:
            LOG.info('This cinder routes only /v3/{project_id}/...: '
                     'requests to /v3/<collection> get the caller\'s '
                     'project put in the path')

    def __call__(self, environ, start_response):
        if self.active:
            path = environ.get('PATH_INFO') or ''
            first = path.lstrip('/').split('/', 1)[0].split('.')[0]
            context = environ.get('cinder.context')
            project = getattr(context, 'project_id', None)
            if project and first in self.collections:
                environ['PATH_INFO'] = '/%s/%s' % (project, path.lstrip('/'))
        return self.application(environ, start_response)


def filter_factory(global_conf, **local_conf):
    """paste.filter_factory of [filter:projecturl] in api-paste.ini."""
    def _filter(application):
        return ProjectURL(application)
    return _filter

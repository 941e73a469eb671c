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

"""A URL naming another project than the token's: say which one is right.

cinder answers a request whose URL has a project id (``/v3/<project>/...``)
other than the caller's with HTTP 400 "Malformed request url", which does
not tell a user of a ksvd token (whose project is fixed when the token is
made) what to change.  call() runs the API application and, only for such
a 400, replaces the body with one that names both projects.  Which project
the URL names is what cinder's router matched (wsgiorg.routing_args), so a
project called like a resource ("volumes") is not mistaken for one.
"""

import json


def url_project(environ):
    """The project id cinder's router found in the URL, or None."""
    args = environ.get('wsgiorg.routing_args')
    if not args or len(args) < 2 or not isinstance(args[1], dict):
        return None
    return args[1].get('project_id')


def message(token_project, named):
    return ('This token belongs to project %s, but the URL names project '
            '%s. Use the endpoint without a project (.../v3) or with the '
            "token's (.../v3/%s); with cinder or openstack and "
            '--os-auth-type ksvd-token: OS_PROJECT_ID=%s.'
            % (token_project, named, token_project, token_project))


def call(application, environ, start_response, token_project):
    """application(environ, start_response), with the clearer 400."""
    replaced = []

    def start(status, headers, exc_info=None):
        # Forward exc_info only when given: some servers' and tests'
        # start_response take two arguments.
        extra = () if exc_info is None else (exc_info,)
        named = url_project(environ) if status[:3] == '400' else None
        if named is not None and named != token_project:
            body = json.dumps({'badRequest': {
                'code': 400,
                'message': message(token_project, named)}}).encode('utf-8')
            replaced.append(body)
            return start_response('400 Bad Request', [
                ('Content-Type', 'application/json'),
                ('Content-Length', str(len(body)))], *extra)
        return start_response(status, headers, *extra)

    result = application(environ, start)
    if not replaced:
        return result
    close = getattr(result, 'close', None)
    if close is not None:
        close()
    return replaced

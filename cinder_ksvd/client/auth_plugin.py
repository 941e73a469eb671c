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
"""keystoneauth1 plugin "ksvd-token": a ksvd API token and an endpoint.

Registered under the keystoneauth1.plugin entry point, so stock
python-cinderclient and openstackclient use it unmodified
(``--os-auth-type ksvd-token --os-endpoint URL --os-token TOKEN``).  There
is no Keystone to ask for a catalog: every request goes to the endpoint
given, with the token in X-Auth-Token.
"""

from keystoneauth1 import exceptions
from keystoneauth1 import loading
from keystoneauth1 import token_endpoint

# Service types with no endpoint here.  Only the image service: the
# others openstackclient may ask for while it runs a volume command
# (identity) keep getting the endpoint, as before, and are never used.
NO_ENDPOINT_TYPES = ('image',)
NO_SERVICE = (
    'ksvd-cinder serves only the volume API: there is no %(service)s '
    'service (no Keystone catalog, no Glance). To create a volume from an '
    'image, give the image id or name to the volume API: cinder create '
    '--image <image id or name> <size> (or imageRef in POST /v3/volumes); '
    'images are listed by ksvd-cinder-manage image list')


class KsvdToken(token_endpoint.Token):
    """The given endpoint and token, always; project id when told."""

    def __init__(self, endpoint, token, project_id=None):
        super(KsvdToken, self).__init__(endpoint, token)
        self.project_id = project_id

    def get_endpoint(self, session, service_type=None, **kwargs):
        """The volume endpoint, for any service type but the image one.

        Answering the image service type with the volume endpoint made
        openstackclient ask cinder for an image (``volume create
        --image``) and fail with "'Proxy' object has no attribute
        'find_image'"; now it says there is no image service and what to
        run instead.
        """
        if service_type in NO_ENDPOINT_TYPES:
            raise exceptions.EndpointNotFound(
                NO_SERVICE % {'service': service_type})
        return super(KsvdToken, self).get_endpoint(
            session, service_type=service_type, **kwargs)

    def get_project_id(self, session, **kwargs):
        return self.project_id

    def invalidate(self):
        # A static token: nothing to fetch again after a 401.
        return False


class _EndpointOpt(loading.Opt):
    """The endpoint option, without a second --os-endpoint flag.

    python-cinderclient defines --os-endpoint (CINDER_ENDPOINT) itself, and
    keystoneauth would add the plugin's own --os-endpoint when OS_AUTH_TYPE
    names this plugin: argparse refuses the duplicate.  Both fill the same
    destination (os_endpoint), so the plugin's flag gets another name.
    """

    @property
    def argparse_args(self):
        return ['--os-ksvd-endpoint']

    @property
    def argparse_envvars(self):
        return ['OS_ENDPOINT', 'CINDER_ENDPOINT']


class KsvdTokenLoader(loading.BaseLoader):
    """Loader of the ksvd-token plugin (options endpoint, token)."""

    @property
    def plugin_class(self):
        return KsvdToken

    def get_options(self):
        options = super(KsvdTokenLoader, self).get_options()
        options.extend([
            _EndpointOpt('endpoint', required=True,
                         help='ksvd-cinder volume API URL, e.g. '
                              'http://127.0.0.1:8776/v3'),
            loading.Opt('token', secret=True, required=True,
                        help='ksvd API token (ksvd.<id>.<secret>), from '
                             'ksvd-cinder-manage token create'),
            loading.Opt('project-id',
                        help='Project of the token, for clients that ask '
                             'for it (optional; python-cinderclient\'s '
                             'shell requires one). It is not sent: the '
                             'token decides the project, and a URL naming '
                             'another project is refused with a message '
                             'naming the token\'s'),
        ])
        return options

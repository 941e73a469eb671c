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

"""type list/show/create/delete: which backend a volume lands on."""

from cinder_ksvd.client import common

LIST_COLUMNS = ('id', 'name', 'is_public', 'description', 'properties')


def _info(vtype):
    return {
        'id': vtype.id,
        'name': vtype.name,
        'is_public': getattr(vtype, 'is_public', True),
        'description': getattr(vtype, 'description', None),
        'properties': dict(getattr(vtype, 'extra_specs', None) or {}),
    }


class ListType(common.Lister):
    """List volume types."""

    def take_action(self, parsed_args):
        rows = []
        for vtype in self.cinder.volume_types.list():
            info = _info(vtype)
            rows.append(tuple(common.column(info[c]) for c in LIST_COLUMNS))
        return LIST_COLUMNS, rows


class ShowType(common.ShowOne):
    """Show one volume type."""

    def get_parser(self, prog_name):
        parser = super(ShowType, self).get_parser(prog_name)
        parser.add_argument('type', metavar='TYPE', help='name or ID')
        return parser

    def take_action(self, parsed_args):
        vtype = common.find_type(self.cinder, parsed_args.type)
        return common.show_columns(_info(vtype))


class CreateType(common.ShowOne):
    """Create a volume type, e.g. --property volume_backend_name=lvm-1."""

    def get_parser(self, prog_name):
        parser = super(CreateType, self).get_parser(prog_name)
        parser.add_argument('name', metavar='NAME')
        parser.add_argument('--description')
        parser.add_argument('--private', action='store_true',
                            help='visible to its project only')
        parser.add_argument('--property', metavar='KEY=VALUE',
                            action='append', default=[],
                            help='extra spec (repeatable)')
        return parser

    def take_action(self, parsed_args):
        props = common.parse_properties(parsed_args.property)
        vtype = self.cinder.volume_types.create(
            parsed_args.name, description=parsed_args.description,
            is_public=not parsed_args.private)
        if props:
            vtype.set_keys(props)
            vtype = self.cinder.volume_types.get(vtype.id)
        return common.show_columns(_info(vtype))


class DeleteType(common.Command):
    """Delete volume types."""

    def get_parser(self, prog_name):
        parser = super(DeleteType, self).get_parser(prog_name)
        parser.add_argument('types', metavar='TYPE', nargs='+',
                            help='name or ID')
        return parser

    def take_action(self, parsed_args):
        for name in parsed_args.types:
            vtype = common.find_type(self.cinder, name)
            self.cinder.volume_types.delete(vtype.id)

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

from oslo_config import cfg
from tests.unit import base

from cinder_ksvd import hooks
from cinder_ksvd import opts


class ListOptsTestCase(base.TestCase):

    def test_groups(self):
        groups = [group for group, _opts in opts.list_opts()]
        self.assertEqual([opts.KSVD_GROUP, opts.DATABASE_GROUP,
                          opts.COMPUTE_GROUP, opts.IMAGE_GROUP,
                          opts.AUTH_GROUP, opts.COMPAT_GROUP,
                          opts.CLUSTER_GROUP], groups)
        self.assertEqual('ksvd', opts.KSVD_GROUP)
        self.assertEqual('ksvd_database', opts.DATABASE_GROUP)
        self.assertEqual('ksvd_compute', opts.COMPUTE_GROUP)
        self.assertEqual('ksvd_image', opts.IMAGE_GROUP)
        self.assertEqual('ksvd_auth', opts.AUTH_GROUP)
        self.assertEqual('ksvd_compat', opts.COMPAT_GROUP)
        self.assertEqual('ksvd_cluster', opts.CLUSTER_GROUP)

    def test_every_option_has_help(self):
        for group, options in opts.list_opts():
            for opt in options:
                self.assertTrue(opt.help and len(opt.help) > 20,
                                '[%s] %s' % (group, opt.name))

    def test_a_bool_switch_per_hook(self):
        _group, options = opts.list_opts()[0]
        by_name = {opt.name: opt for opt in options}
        hook_names = [name for name, _path in hooks.HOOKS]
        self.assertEqual(sorted(hook_names), sorted(by_name))
        for name in hook_names:
            self.assertIsInstance(by_name[name], cfg.BoolOpt)
            self.assertTrue(by_name[name].help)
            self.assertGreater(len(by_name[name].help.strip()), 20)

    def test_list_is_a_copy(self):
        _group, options = opts.list_opts()[0]
        options.append(cfg.StrOpt('not_ours'))
        names = [opt.name for opt in opts.list_opts()[0][1]]
        self.assertNotIn('not_ours', names)


class RegisterOptsTestCase(base.TestCase):

    def test_registers_the_switches(self):
        conf = self.new_conf()
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        for name, _path in hooks.HOOKS:
            self.assertIs(True, conf.ksvd[name])

    def test_idempotent(self):
        conf = self.new_conf()
        opts.register_opts(conf)
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        self.assertEqual(sorted(name for name, _path in hooks.HOOKS),
                         sorted(conf.ksvd.keys()))

    def test_switch_read_from_config_file(self):
        directory = self.make_tempdir()
        path = self.write_file(directory, 'c.conf',
                               '[ksvd]\nconfig_defaults = false\n')
        conf = self.new_conf()
        opts.register_opts(conf)
        conf(['--config-file', path], default_config_files=[],
             default_config_dirs=[])
        self.assertIs(False, conf.ksvd.config_defaults)

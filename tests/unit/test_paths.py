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

import os
from unittest import mock

import fixtures
from tests.unit import base

from cinder_ksvd import paths


class HasConfigArgsTestCase(base.TestCase):

    def test_config_file_separate_value(self):
        self.assertTrue(paths.has_config_args(['--config-file', 'x']))

    def test_config_file_equals(self):
        self.assertTrue(paths.has_config_args(['db', '--config-file=x']))

    def test_config_dir(self):
        self.assertTrue(paths.has_config_args(['--config-dir', 'd']))

    def test_config_dir_equals(self):
        self.assertTrue(paths.has_config_args(['--config-dir=d']))

    def test_none(self):
        self.assertFalse(paths.has_config_args([]))
        self.assertFalse(paths.has_config_args(['db', 'sync', '--debug']))

    def test_similar_option_is_not_a_config_option(self):
        self.assertFalse(paths.has_config_args(['--config-files-x', 'y']))
        self.assertFalse(paths.has_config_args(['--config-dirty']))


class PathsTestCase(base.TestCase):
    """Every test runs with its own ETC_DIR, SHARE_DIR and sys.prefix."""

    def setUp(self):
        super(PathsTestCase, self).setUp()
        self.etc = self.make_tempdir()
        self.share = self.make_tempdir()
        self.prefix = self.make_tempdir()
        self.base_prefix = self.make_tempdir()
        self.useFixture(fixtures.MockPatchObject(paths, 'ETC_DIR', self.etc))
        self.useFixture(fixtures.MockPatchObject(paths, 'SHARE_DIR',
                                                 self.share))
        fake_sys = base.Namespace(prefix=self.prefix,
                                  base_prefix=self.base_prefix)
        self.useFixture(fixtures.MockPatchObject(paths, 'sys', fake_sys))

    def _prefix_dir(self, prefix, sub='share/ksvd-cinder'):
        path = os.path.join(prefix, sub)
        os.makedirs(path)
        return path

    def test_search_dirs_order(self):
        self.assertEqual(
            [self.etc, self.share,
             os.path.join(self.prefix, 'share/ksvd-cinder'),
             os.path.join(self.prefix, 'etc/ksvd-cinder'),
             os.path.join(self.base_prefix, 'share/ksvd-cinder'),
             os.path.join(self.base_prefix, 'etc/ksvd-cinder')],
            paths.search_dirs())

    def test_search_dirs_no_duplicates(self):
        fake_sys = base.Namespace(prefix=self.prefix,
                                  base_prefix=self.prefix)
        with mock.patch.object(paths, 'sys', fake_sys):
            dirs = paths.search_dirs()
        self.assertEqual(len(set(dirs)), len(dirs))
        self.assertEqual(4, len(dirs))

    def test_find_first_existing_dir_wins(self):
        first, second, third = (self.make_tempdir() for _i in range(3))
        self.write_file(second, 'f.ini', 'second')
        self.write_file(third, 'f.ini', 'third')
        self.assertEqual(os.path.join(second, 'f.ini'),
                         paths.find('f.ini', [first, second, third]))
        self.write_file(first, 'f.ini', 'first')
        self.assertEqual(os.path.join(first, 'f.ini'),
                         paths.find('f.ini', [first, second, third]))

    def test_find_skips_missing_dirs_and_directories(self):
        missing = os.path.join(self.make_tempdir(), 'missing')
        other = self.make_tempdir()
        not_a_file = self.make_tempdir()
        os.mkdir(os.path.join(not_a_file, 'f.ini'))
        self.write_file(other, 'f.ini')
        self.assertEqual(os.path.join(other, 'f.ini'),
                         paths.find('f.ini', [missing, not_a_file, other]))

    def test_find_nothing(self):
        self.assertIsNone(paths.find('f.ini', [self.make_tempdir()]))

    def test_find_default_dirs(self):
        self.write_file(self.share, paths.PASTE_INI)
        self.assertEqual(os.path.join(self.share, paths.PASTE_INI),
                         paths.find(paths.PASTE_INI))
        self.write_file(self.etc, paths.PASTE_INI)
        self.assertEqual(os.path.join(self.etc, paths.PASTE_INI),
                         paths.find(paths.PASTE_INI))

    def test_dist_conf_never_from_etc(self):
        self.write_file(self.etc, paths.DIST_CONF)
        self.assertIsNone(paths.dist_conf())
        venv = self._prefix_dir(self.prefix)
        self.write_file(venv, paths.DIST_CONF)
        self.assertEqual(os.path.join(venv, paths.DIST_CONF),
                         paths.dist_conf())
        self.write_file(self.share, paths.DIST_CONF)
        self.assertEqual(os.path.join(self.share, paths.DIST_CONF),
                         paths.dist_conf())

    def test_cinder_data_file(self):
        self.assertIsNone(paths.cinder_data_file('resource_filters.json'))
        base_dir = self._prefix_dir(self.base_prefix, 'etc/cinder')
        self.write_file(base_dir, 'resource_filters.json')
        self.assertEqual(os.path.join(base_dir, 'resource_filters.json'),
                         paths.cinder_data_file('resource_filters.json'))
        venv_dir = self._prefix_dir(self.prefix, 'etc/cinder')
        self.write_file(venv_dir, 'resource_filters.json')
        self.assertEqual(os.path.join(venv_dir, 'resource_filters.json'),
                         paths.cinder_data_file('resource_filters.json'))

    def test_default_config_args_nothing(self):
        self.assertEqual([], paths.default_config_args())

    def test_default_config_args_dist_only(self):
        dist = self.write_file(self.share, paths.DIST_CONF)
        self.assertEqual(['--config-file', dist],
                         paths.default_config_args())

    def test_default_config_args_layering(self):
        dist = self.write_file(self.share, paths.DIST_CONF)
        main = self.write_file(self.etc, paths.MAIN_CONF)
        conf_d = os.path.join(self.etc, paths.CONF_D)
        os.mkdir(conf_d)
        self.assertEqual(['--config-file', dist,
                          '--config-file', main,
                          '--config-dir', conf_d],
                         paths.default_config_args())

    def test_default_config_args_without_dist(self):
        main = self.write_file(self.etc, paths.MAIN_CONF)
        self.assertEqual(['--config-file', main],
                         paths.default_config_args())

    def test_default_config_args_conf_d_without_cinder_conf(self):
        dist = self.write_file(self.share, paths.DIST_CONF)
        conf_d = os.path.join(self.etc, paths.CONF_D)
        os.mkdir(conf_d)
        self.assertEqual(['--config-file', dist, '--config-dir', conf_d],
                         paths.default_config_args())

    def test_default_config_args_ignores_dist_conf_in_etc(self):
        self.write_file(self.etc, paths.DIST_CONF)
        self.assertEqual([], paths.default_config_args())

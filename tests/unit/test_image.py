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

import logging as std_logging
import os
from unittest import mock

import fixtures
from oslo_utils import importutils
from tests.unit import base
from tests.unit import patched_cinder

from cinder_ksvd import exception
from cinder_ksvd import image
from cinder_ksvd.image import service
from cinder_ksvd import opts


class ImageHookTestCase(base.TestCase):

    def setUp(self):
        super(ImageHookTestCase, self).setUp()
        glance = image._glance()
        self.glance = glance
        saved = dict((n, getattr(glance, n)) for n in image._NAMES)
        self.addCleanup(lambda: [setattr(glance, n, v)
                                 for n, v in saved.items()])
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf([], default_config_files=[], default_config_dirs=[])

    def test_install_then_disable(self):
        stock = self.glance.GlanceImageService
        image.install()
        image.install()  # idempotent
        self.assertIs(service.ImageService, self.glance.GlanceImageService)
        self.assertIsInstance(self.glance.get_default_image_service(),
                              service.ImageService)
        self.assertIs(service.get_remote_image_service,
                      self.glance.get_remote_image_service)
        image.disable(self.conf)
        self.assertIsNot(service.ImageService,
                         self.glance.GlanceImageService)
        self.assertIs(image._stock['GlanceImageService'],
                      self.glance.GlanceImageService)
        if stock is not service.ImageService:
            self.assertIs(stock, self.glance.GlanceImageService)

    def test_preflight(self):
        image.preflight(self.conf)  # default store: created on first use
        missing = os.path.join(self.make_tempdir(), 'not-mounted')
        self.conf.set_override('store_dir', missing, opts.IMAGE_GROUP)
        exc = self.assertRaises(exception.StartupRefused, image.preflight,
                                self.conf)
        self.assertIn('not-mounted is not a directory', str(exc))
        os.mkdir(missing)
        image.preflight(self.conf)


class PatchedCinderTestCase(base.TestCase):
    """The hook steps aside on a cinder with image_service_class.

    Private copies of the installed cinder.image.glance, as released and
    with patches/ applied, stand in for cinder's module.
    """

    def setUp(self):
        super(PatchedCinderTestCase, self).setUp()
        for state in (image._stock, image._patched):
            patcher = mock.patch.dict(state, clear=True)
            patcher.start()
            self.addCleanup(patcher.stop)
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf([], default_config_files=[], default_config_dirs=[])

    def _install(self, patched):
        cinder_conf = self.new_conf()
        glance = patched_cinder.load(self, 'cinder/image/glance.py',
                                     cinder_conf, patched)
        names = dict((n, getattr(glance, n)) for n in image._NAMES)
        self.useFixture(fixtures.MockPatchObject(image, '_glance',
                                                 return_value=glance))
        image.install()
        return glance, cinder_conf, names

    def test_steps_aside_on_patched_cinder(self):
        glance, cinder_conf, names = self._install(patched=True)
        self.assertTrue(image.has_image_service_class(glance))
        # Nothing replaced: cinder's own functions read the option ...
        self.assertEqual(names, dict((n, getattr(glance, n))
                                     for n in image._NAMES))
        self.assertEqual(image.SERVICE_CLASS,
                         cinder_conf.image_service_class)
        # ... and build our image service from it.
        self.assertIsInstance(glance.get_default_image_service(),
                              service.ImageService)
        ctx = mock.Mock()
        image_id = '8a6a1de0-7b58-4c3e-9d65-0f6a1c9e4b21'
        svc, found = glance.get_remote_image_service(
            ctx, 'images/' + image_id)  # a Glance-style href
        self.assertIsInstance(svc, service.ImageService)
        self.assertEqual(image_id, found)
        logger = self.useFixture(fixtures.FakeLogger(
            name='cinder_ksvd.image', level=std_logging.INFO))
        image.configured(self.conf)
        self.assertIn('runtime image hook steps aside', logger.output)
        self.assertIn(image.SERVICE_CLASS, logger.output)

    def test_operator_value_wins_on_patched_cinder(self):
        glance, cinder_conf, names = self._install(patched=True)
        cinder_conf.set_override('image_service_class', image.STOCK_CLASS)
        self.assertEqual(image.STOCK_CLASS, cinder_conf.image_service_class)
        logger = self.useFixture(fixtures.FakeLogger(
            name='cinder_ksvd.image', level=std_logging.INFO))
        image.configured(self.conf)
        self.assertIn('cinder uses that class', logger.output)
        # cinder builds what the option names (cinder.image.glance's
        # GlanceImageService; other tests may have hooked that module).
        self.assertIsInstance(glance.get_default_image_service(),
                              importutils.import_class(image.STOCK_CLASS))

    def test_disable_on_patched_cinder(self):
        glance, cinder_conf, names = self._install(patched=True)
        image.disable(self.conf)
        self.assertEqual(image.STOCK_CLASS, cinder_conf.image_service_class)
        # cinder builds what the option names (cinder.image.glance's
        # GlanceImageService; other tests may have hooked that module).
        self.assertIsInstance(glance.get_default_image_service(),
                              importutils.import_class(image.STOCK_CLASS))

    def test_acts_on_stock_cinder(self):
        glance, cinder_conf, names = self._install(patched=False)
        self.assertFalse(image.has_image_service_class(glance))
        self.assertNotIn('image_service_class', cinder_conf)
        self.assertIs(service.get_default_image_service,
                      glance.get_default_image_service)
        self.assertIs(service.get_remote_image_service,
                      glance.get_remote_image_service)
        self.assertIs(service.ImageService, glance.GlanceImageService)
        image.disable(self.conf)
        self.assertIs(names['get_default_image_service'],
                      glance.get_default_image_service)


class UrlPreflightTestCase(base.TestCase):

    def setUp(self):
        super(UrlPreflightTestCase, self).setUp()
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf([], default_config_files=[], default_config_dirs=[])

    def set(self, **values):
        for key, value in values.items():
            self.conf.set_override(key, value, opts.IMAGE_GROUP)

    def refused(self, text):
        exc = self.assertRaises(exception.StartupRefused, image.preflight,
                                self.conf)
        self.assertIn(text, str(exc))
        self.assertNotIn('\n', str(exc))

    def test_off_by_default(self):
        self.assertFalse(self.conf.ksvd_image.url_images)
        self.assertIsNone(image.preflight(self.conf))

    def test_on_needs_prefixes_and_roles(self):
        self.set(url_images=True)
        self.refused('url_allowed_prefixes is empty')
        self.set(url_allowed_prefixes=['https://images.example/ksvd/'])
        self.refused('url_roles is empty')
        self.set(url_roles=['operator'])
        self.refused("unknown role(s) operator")
        self.set(url_roles=['admin'])
        self.assertIsNone(image.preflight(self.conf))

    def test_bad_values(self):
        self.set(url_images=True, url_roles=['admin'],
                 url_allowed_prefixes=['ftp://images.example/'])
        self.refused('url_allowed_prefixes')
        self.set(url_allowed_prefixes=['https://images.example/'],
                 url_allowed_networks=['127.0.0.1/40'])
        self.refused('url_allowed_networks')

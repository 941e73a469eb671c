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

from tests.unit import base

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

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


from tests.unit import base

from cinder_ksvd.client import progress


class _Tty(base.StringIO):

    def isatty(self):
        return True


class BarTest(base.TestCase):

    def test_pipe_gets_a_line_per_change(self):
        out = base.StringIO()
        bar = progress.Bar(out, 4, 'done')
        for done in (0, 1, 1, 2, 4):
            bar.update(done)
        bar.update(4, '(1 failed)')
        bar.finish()
        self.assertEqual([
            'done [..............................] 0/4',
            'done [#######.......................] 1/4',
            'done [###############...............] 2/4',
            'done [##############################] 4/4',
            'done [##############################] 4/4 (1 failed)'],
            out.getvalue().splitlines())

    def test_terminal_redraws_in_place(self):
        out = _Tty()
        bar = progress.Bar(out, 2, 'x')
        bar.update(1)
        bar.update(2)
        bar.finish()
        self.assertEqual('\r\x1b[Kx [' + '#' * 15 + '.' * 15 + '] 1/2'
                         '\r\x1b[Kx [' + '#' * 30 + '] 2/2\n',
                         out.getvalue())

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

"""A progress bar on stderr, kept off stdout so output stays parseable.

On a terminal the bar redraws in place; elsewhere (logs, pipes) one line is
written each time the count changes, so a captured run still shows it.
"""

WIDTH = 30


class Bar(object):

    def __init__(self, stream, total, label):
        self.stream = stream
        self.total = total
        self.label = label
        self.tty = bool(getattr(stream, 'isatty', None) and stream.isatty())
        self._last = None

    def render(self, done, note=''):
        filled = int(WIDTH * done / self.total) if self.total else WIDTH
        text = '%s [%s%s] %d/%d' % (self.label, '#' * filled,
                                    '.' * (WIDTH - filled), done, self.total)
        if note:
            text += ' ' + note
        return text

    def update(self, done, note=''):
        """Show done of total; writes only when something changed."""
        state = (done, note)
        if state == self._last:
            return
        self._last = state
        if self.tty:
            self.stream.write('\r\x1b[K' + self.render(done, note))
        else:
            self.stream.write(self.render(done, note) + '\n')
        self.stream.flush()

    def finish(self):
        if self.tty and self._last is not None:
            self.stream.write('\n')
            self.stream.flush()

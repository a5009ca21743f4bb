# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type of the collection.

Pure code raises SpinError with a message written for the tenant; the modules and action plugins
turn it into ``fail_json`` / a failed result in exactly one place each.
"""
from __future__ import annotations


class SpinError(Exception):
    def __init__(self, message, diagnostics=None, **details):
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics or [])
        self.details = details

    def to_result(self):
        result = {"failed": True, "msg": self.message}
        if self.diagnostics:
            result["diagnostics"] = self.diagnostics
        result.update(self.details)
        return result

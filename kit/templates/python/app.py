"""The component's entry point: componentize-py looks for `WitWorld` in this module."""

import wit_world

import insitu_kit
import rule


class WitWorld(wit_world.WitWorld):
    def run(self, params):
        return insitu_kit.run(rule.large_debit, params)

"""The one error a wrong ``cdk.json`` value raises, so ``cdk synth`` stops with its message."""


class ConfigError(ValueError):
    """A missing or invalid setting, or a routing invariant the settings break.

    The message always starts with the context path of the offending value
    (e.g. ``environments.production.routing.internal_listener.listener_arn``).
    """

#!/usr/bin/env python3
"""CDK entry point (``cdk.json`` runs it): ``npx cdk synth -c env=review -c bundle=false``."""

import sys

from infra.app_factory import create_app
from infra.config_error import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # A wrong cdk.json value is a message for the operator, not a stack trace.
    sys.exit(f"cdk.json context error: {error}")
app.synth()

#!/usr/bin/env python3
"""CDK entry point (``cdk.json`` runs it): ``npx cdk synth -c env=review -c bundle=false``."""

from infra.app_factory import create_app

create_app().synth()

# Infrastructure targets, included by the top-level Makefile (which defines PY and install).
#   make synth [ENV=name]        synthesize every environment (or one) to cdk.out/, offline
#   make diff [BASE=ref]         template diff of the working tree against BASE (default main)
#   make package                 build and check the Lambda bundle in .lambda-bundle/
#   make bootstrap ENV=name      cdk bootstrap the environment's account and region (once)
#   make deploy ENV=name         cdk deploy one environment (builds the bundle with pip)

CDK := node_modules/.bin/cdk
CDK_APP := $(PY) app.py
BASE ?= main
LAMBDA_BUNDLE_DIR ?= .lambda-bundle
# Extra flags for cdk deploy, e.g. CDK_DEPLOY_FLAGS="--require-approval never" in a pipeline.
CDK_DEPLOY_FLAGS ?=

# No usage report from the CLI, and no end-of-life banner from jsii on Node 20.
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth diff package bootstrap deploy require-env

# Bundling is skipped: the templates (asset hash included) are the ones a deploy would produce.
synth: install
	$(CDK) synth --quiet --app "$(CDK_APP)" -c bundle=false $(if $(ENV),-c env=$(ENV))
	@ls cdk.out/*.template.json

diff: install
	$(PY) -m infra.tools.diff --base "$(BASE)" --cdk "$(CDK)"

package: install
	$(PY) -m infra.tools.package --output "$(LAMBDA_BUNDLE_DIR)"

bootstrap: install require-env
	$(CDK) bootstrap --app "$(CDK_APP)" -c env=$(ENV) -c bundle=false

deploy: install require-env
	$(CDK) deploy --app "$(CDK_APP)" -c env=$(ENV) $(CDK_DEPLOY_FLAGS)

require-env:
	@test -n "$(ENV)" || { echo "ENV=<environment> is required (see cdk.json: environments)"; exit 2; }

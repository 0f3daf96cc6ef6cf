# Infrastructure targets, included by the top-level Makefile (which defines PY and install).
#   make synth [ENV=name]        synthesize every environment (or only one) into a fresh cdk.out/
#   make preflight ENV=name [RULES=dir]
#                                the routing plan against the listeners' live rules (or the
#                                recorded describe-rules documents in dir); read-only
#   make diff [BASE=ref]         template diff of the working tree against BASE (default main)
#   make package                 build and check the Lambda bundle in .lambda-bundle/
#   make bootstrap ENV=name      cdk bootstrap the environment's account and region (once)
#   make deploy ENV=name         preflight (live, refusing example values), then cdk deploy one
#                                environment (builds the bundle with pip)

CDK := node_modules/.bin/cdk
CDK_APP := $(PY) app.py
CDK_OUT ?= cdk.out
BASE ?= main
LAMBDA_BUNDLE_DIR ?= .lambda-bundle
# Extra flags for cdk deploy, e.g. CDK_DEPLOY_FLAGS="--require-approval never" in a pipeline.
CDK_DEPLOY_FLAGS ?=

# No usage report from the CLI, and no end-of-life banner from jsii on Node 20.
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth diff package preflight bootstrap deploy require-env

# Bundling is skipped: the templates (asset hash included) are the ones a deploy would produce.
# The output folder starts empty, so it never holds another environment's stale template.
synth: install
	rm -rf "$(CDK_OUT)"
	$(CDK) synth --quiet --app "$(CDK_APP)" --output "$(CDK_OUT)" -c bundle=false $(if $(ENV),-c env=$(ENV))
	@ls "$(CDK_OUT)"/*.template.json

diff: install
	$(PY) -m infra.tools.diff --base "$(BASE)" --cdk "$(CDK)"

package: install
	$(PY) -m infra.tools.package --output "$(LAMBDA_BUNDLE_DIR)"

bootstrap: install require-env
	$(CDK) bootstrap --app "$(CDK_APP)" -c env=$(ENV) -c bundle=false

preflight: install require-env
	$(PY) -m infra.tools.preflight --env "$(ENV)" $(if $(RULES),--rules "$(RULES)")

# Stops before anything is deployed when the preflight finds a problem.
deploy: install require-env
	$(PY) -m infra.tools.preflight --env "$(ENV)" --deploy
	$(CDK) deploy --app "$(CDK_APP)" -c env=$(ENV) $(CDK_DEPLOY_FLAGS)

require-env:
	@test -n "$(ENV)" || { echo "ENV=<environment> is required (see cdk.json: environments)"; exit 2; }

# tandem: `make run` starts the product, `make test` runs every test.
# Every target installs first (scripts/install.sh is idempotent: a stamp keyed
# on the pins makes a second call a no-op).
PY := .venv/bin/python

.PHONY: install run train shell test lint eval-nlu bench-profile bench clean widget

install:
	@./scripts/install.sh

run: install
	@$(PY) -m bot run

# the website chat widget only (npm + esbuild into widget/dist/; install does it too)
widget:
	@./scripts/install.sh --widget

train: install
	@$(PY) -m bot train

shell: install
	@$(PY) -m bot shell

test:
	@./scripts/install.sh --browser
	@./scripts/test.sh

lint: install
	@$(PY) -m ruff check bot actions tests bench

eval-nlu: install
	@$(PY) -m bot eval-nlu

# tandem against stock `rasa init`, embedded and on PostgreSQL/Redis/RabbitMQ with two
# replicas, in one run: reports/scale/REPORT.md (about 30 minutes; see bench/scale/REPORT.md)
bench: install
	@$(PY) -m bench

clean:
	rm -rf var/ results/ tests/.cache/

# vethctl: make install | demo | test | bench | lint
.PHONY: install demo test bench lint clean

install:
	@scripts/install.sh

demo: install
	.venv/bin/vethctl demo

test: install
	PATH="$(CURDIR)/.venv/bin:$$PATH" .venv/bin/python -m pytest -q

bench: install
	.venv/bin/python scripts/bench.py

lint: install
	.venv/bin/ruff check vethctl tests scripts
	.venv/bin/ruff format --check vethctl tests scripts

clean:
	rm -rf .venv build *.egg-info .pytest_cache

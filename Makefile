# vethctl: make install | demo | test | bench | lint
.PHONY: install demo test bench lint mutation clean

install:
	@scripts/install.sh

demo: install
	.venv/bin/vethctl demo

# three workers, a test file each at a time (a file's module fixtures, labs and servers stay in one worker):
# the suite mostly waits on timeouts and captures (about 3 min of CPU in 13 min serially under load)
test: install
	PATH="$(CURDIR)/.venv/bin:$$PATH" .venv/bin/python -m pytest -q -n 3 --dist loadfile

bench: install
	.venv/bin/python scripts/bench.py

# mutants of the pure layers against the fast tests (not part of `make test`): prints the score and each
# mutant not caught with the reason it is kept (docs/mutation.md)
mutation: install
	rm -rf mutants
	.venv/bin/python scripts/mutation.py

lint: install
	.venv/bin/ruff check vethctl tests scripts
	.venv/bin/ruff format --check vethctl tests scripts

clean:
	rm -rf .venv build *.egg-info .pytest_cache mutants mutants-run.log

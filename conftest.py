# Shared pytest fixtures for every test folder (src/*/test and tests/).
pytest_plugins = ["sim_pkg.ros.testing"]

from gitlab_model_registry.cli import run

run()

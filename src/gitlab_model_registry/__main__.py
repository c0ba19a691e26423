from gitlab_model_registry.cli import main

main()

from reasonops_cli.main import main

main()

from vethctl.cli.main import main

raise SystemExit(main())

from vethctl.cli import main

raise SystemExit(main())

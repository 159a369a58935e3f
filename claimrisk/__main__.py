from claimrisk.cli import main

raise SystemExit(main())

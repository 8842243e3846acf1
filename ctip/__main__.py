from ctip.cli import main

raise SystemExit(main())

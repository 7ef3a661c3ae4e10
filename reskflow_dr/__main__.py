from reskflow_dr.cli import main

raise SystemExit(main())

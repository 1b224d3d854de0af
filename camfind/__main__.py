from camfind.cli import main

main()

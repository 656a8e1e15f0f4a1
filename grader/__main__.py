from lossgrade.cli import main

main()

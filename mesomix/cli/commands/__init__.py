"""One module a command, in the order `mesomix --help` lists them: each adds its parser with
`register(commands)` and sets the function that runs it (`args.run(args, out) -> int`)."""

import KilnCLI

await KilnCommand.runMain()

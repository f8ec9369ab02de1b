import ArgumentParser

@main
struct RNNKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rnnkit")
}

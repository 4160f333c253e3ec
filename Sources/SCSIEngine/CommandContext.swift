import SCSIProtocol

/// What a command handler needs to know about the command it serves.
struct CommandContext: Sendable {
    let command: SCSICommand
    let cdb: CommandDescriptorBlock

    var nexus: ITNexus { command.nexus }
}

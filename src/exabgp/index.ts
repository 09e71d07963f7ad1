// The ExaBGP process API host: runs ExaBGP helper programs unchanged (ExaBGP's healthcheck, HA2BGP, …).
//
//   processesSchema / normalizeProcesses   the [[processes]] config (zod), embedded by the daemon's config
//   ProcessHost(config, sink, options)     one program: spawn, commands → ProcessSink, acks, respawn, stop
//   parseCommand(line)                     ExaBGP text command → Command
//   createEncoder('text' | 'json')         messages to programs in ExaBGP's formats

export * from './commands.ts';
export * from './config.ts';
export * from './encoder.ts';
export * from './process.ts';

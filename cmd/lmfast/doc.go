// Command lmfast load-tests LMCache's cache controller and its L2 storage.
//
// Its entry point is main.go: kong parses the command line into cli (one
// struct per subcommand), run maps each subcommand's error to an exit code
// (exit.go) and watchSignals turns SIGINT/SIGTERM into a cancelled context.
//
// Every subcommand lives in its own file and only parses flags and wires
// library packages together: controller.go (engine/), l2.go (l2/),
// calibrate.go (engine/calibrate), controller_server.go (refcontroller/),
// sink.go (zmqx/), wire.go (wire/). common.go holds what several of them
// share (config-line machine fields, --pin-cpus, --out) and flags.go the
// flag types kong decodes. Results stream to stdout (or --out) as JSON
// lines; the human report goes to stderr.
package main

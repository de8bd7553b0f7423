package main

// calibrateCmd is a placeholder until its issue lands; it is replaced wholesale.
type calibrateCmd struct{}

// Run reports that the command is not built yet.
func (c *calibrateCmd) Run(a *app) error { return failed("calibrate: not implemented yet") }

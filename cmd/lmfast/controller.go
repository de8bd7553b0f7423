package main

// controllerCmd is a placeholder until its issue lands; it is replaced wholesale.
type controllerCmd struct{}

// Run reports that the command is not built yet.
func (c *controllerCmd) Run(a *app) error { return failed("controller: not implemented yet") }

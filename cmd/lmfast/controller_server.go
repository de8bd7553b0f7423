package main

// controllerServerCmd is a placeholder until its issue lands; it is replaced wholesale.
type controllerServerCmd struct{}

// Run reports that the command is not built yet.
func (c *controllerServerCmd) Run(a *app) error {
	return failed("controller_server: not implemented yet")
}

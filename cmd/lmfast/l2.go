package main

// l2Cmd is a placeholder until its issue lands; it is replaced wholesale.
type l2Cmd struct{}

// Run reports that the command is not built yet.
func (c *l2Cmd) Run(a *app) error { return failed("l2: not implemented yet") }

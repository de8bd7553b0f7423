package main

// wireCmd is a placeholder until its issue lands; it is replaced wholesale.
type wireCmd struct{}

// Run reports that the command is not built yet.
func (c *wireCmd) Run(a *app) error { return failed("wire: not implemented yet") }

package main

import (
	"errors"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/stream"
)

// embeddedServer is the in-process reference controller behind --embedded.
type embeddedServer struct {
	ports monitorPorts
}

func startEmbedded(a *app) (*embeddedServer, error) {
	return nil, errors.New("the reference controller is not available in this build")
}

func (s *embeddedServer) Close() {}

func (s *embeddedServer) verify(out *stream.Writer, r *engine.Result) error { return nil }

func writeHeadroom(a *app, out *stream.Writer, r *engine.Result) {}

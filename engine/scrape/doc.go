// Package scrape reads what a controller says it received, from its
// Prometheus /metrics page, so that a run's sent counts can be reconciled
// with the receiver's own.
//
// LMCache's controller counts every frame received on its PULL socket in
// the gauge lmcache:cache_controller_pull_socket_message_count and every
// message on its reply and heartbeat ROUTER sockets in
// lmcache:cache_controller_reply_socket_message_count (both labelled
// role="controller"); `lmfast controller-server` serves the same names with
// the same semantics. The counts start at zero when the controller starts
// and never reset otherwise, so a Scraper reads a baseline before the run
// and reports deltas from it; a count that goes down means the controller
// restarted, reported as such rather than as lost frames.
//
// A delta is the controller's whole intake: it reconciles with one lmfast
// process's sent count only while that process is the controller's only
// sender.
package scrape

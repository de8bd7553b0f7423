// Package keydist is the distribution of the keys lmfast's controller load
// draws for admits, evicts and lookups (--key-dist): uniform over the key
// space, Zipf, or a hot spot.
//
// Entry points:
//
//	Parse      a --key-dist specification into a Dist
//	NewSampler a Dist over the keys 0..n-1, drawing from a Source
//	Sampler.Prob  the probability of one key (what tests compare with)
//
// The specifications:
//
//	uniform      every key 0..n-1 equally likely (the default, LMCache's)
//	zipf:S       key k has rank k+1 and probability proportional to
//	             1/(k+1)^S, S > 0: key 0 is the hottest
//	hotspot:P    a fraction P of the draws hit the hot set, the first
//	             ⌈(1-P)·n⌉ keys (hotspot:0.8 is the "80/20" rule); the rest
//	             are uniform over the cold keys; 0 < P < 1
//	hotspot:P:H  the same with a hot set of the first ⌈H·n⌉ keys, 0 < H < 1
//
// Draws are a function of the Source alone, so a stream seeded alike draws
// the same keys.
package keydist

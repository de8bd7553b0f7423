package hugepage

import "unsafe"

// uintptrOf returns the address of b's first byte.
func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// Addr returns the address of b's first byte, for alignment checks.
func Addr(b []byte) uintptr { return uintptrOf(b) }

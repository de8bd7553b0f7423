package l2

import (
	"fmt"
	"os"
	"sort"
)

// recoverFiles counts the key files a previous run left in base_path, as
// LMCache's adapters do at start with recover_on_start (fs_l2_adapter.py
// _recover_existing_files; fs_native_l2_adapter.py _scan_persisted_objects
// with NativeConnectorL2Adapter.recover_persisted_objects): every regular
// file directly in base_path whose name parses as a key's file name
// (fs_native: and is that key's own name, so that evicting it removes it)
// counts at its size; temp files, the temp directory, symlinks and other
// names are skipped. They enter the LRU order oldest first: fs in
// directory order, fs_native by modification time, so that the oldest file
// is evicted first. A directory that cannot be listed recovers nothing
// (warned), as in LMCache, which logs it and starts.
func (c *capacity) recoverFiles(base string, warn func(string)) {
	c.recovered.Scanned = true
	ents, err := keyFileEntries(base)
	if err != nil {
		warn(fmt.Sprintf("recover_on_start: cannot list %s: %v; no file recovered", base, err))
		return
	}
	type found struct {
		name  string
		size  int64
		mtime int64
	}
	var files []found
	for _, e := range ents {
		name := e.Name()
		k, ok := ParseFileName(name)
		if !ok || (c.native && k.FileName() != name) {
			c.recovered.Skipped++
			continue
		}
		if !e.Type().IsRegular() { // d_type: no stat for the common case
			c.recovered.Skipped++
			continue
		}
		fi, err := e.Info() // lstat
		if err != nil || !fi.Mode().IsRegular() {
			if err == nil || !os.IsNotExist(err) {
				c.recovered.Skipped++
			}
			continue
		}
		files = append(files, found{name: name, size: fi.Size(), mtime: fi.ModTime().UnixNano()})
	}
	if c.native {
		sort.SliceStable(files, func(i, j int) bool { return files[i].mtime < files[j].mtime })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range files {
		id, name := c.keyID(f.name)
		if _, dup := c.index[id]; dup {
			continue
		}
		c.add(id, f.size, name)
		c.recovered.Keys++
		c.recovered.Bytes += f.size
	}
}

// keyID maps a recovered file name to its capacity id: the benchmark key
// number when the name is that key's file name, else a fresh foreign id,
// returned with the NUL-terminated name to unlink (mu held).
func (c *capacity) keyID(name string) (uint64, []byte) {
	if k, ok := ParseFileName(name); ok && string(AppendBenchName(nil, k.KVRank)) == name {
		return k.KVRank, nil
	}
	c.nextForeign++
	return foreignBit | c.nextForeign, append([]byte(name), 0)
}

// keyFileEntries lists where key files live: the entries directly in
// base_path (Scratch.finalName names them relative to it), in directory
// order as os.scandir gives them. The start-up recovery and the summary's
// bytes on disk both list through here.
func keyFileEntries(base string) ([]os.DirEntry, error) {
	dir, err := os.Open(base)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	return dir.ReadDir(-1)
}

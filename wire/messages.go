package wire

import (
	"sort"
	"strconv"

	"github.com/lmfast/lmfast/wire/msgspec"
)

// Msg is one message of LMCache's `Msg` union (tagged with "type").
type Msg interface {
	// TypeName returns the tag: the Python class name, e.g. "RegisterMsg".
	TypeName() string
	// AppendMsgpack appends msgspec's exact encoding of the message to dst.
	// It allocates only to grow dst.
	AppendMsgpack(dst []byte) []byte
}

// Class names (tags) of the messages with their own Go types.
const (
	TypeRegisterMsg            = "RegisterMsg"
	TypeRegisterRetMsg         = "RegisterRetMsg"
	TypeDeRegisterMsg          = "DeRegisterMsg"
	TypeHeartbeatMsg           = "HeartbeatMsg"
	TypeHeartbeatRetMsg        = "HeartbeatRetMsg"
	TypeBatchedKVOperationMsg  = "BatchedKVOperationMsg"
	TypeBatchedP2PLookupMsg    = "BatchedP2PLookupMsg"
	TypeBatchedP2PLookupRetMsg = "BatchedP2PLookupRetMsg"
	TypeErrorMsg               = "ErrorMsg"
	TypeKVAdmitMsg             = "KVAdmitMsg"
	TypeKVEvictMsg             = "KVEvictMsg"
	TypeFullSyncStartMsg       = "FullSyncStartMsg"
	TypeFullSyncStartRetMsg    = "FullSyncStartRetMsg"
	TypeFullSyncBatchMsg       = "FullSyncBatchMsg"
	TypeFullSyncEndMsg         = "FullSyncEndMsg"
	TypeFullSyncStatusMsg      = "FullSyncStatusMsg"
	TypeFullSyncStatusRetMsg   = "FullSyncStatusRetMsg"
)

// KnownTypes returns every class name of the Msg union.
func KnownTypes() []string {
	out := msgspec.ClassNames()
	for name := range classes {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Str returns a pointer to s, for Optional[str] fields.
func Str(s string) *string { return &s }

// RegisterMsg registers a worker (DEALER -> reply socket).
type RegisterMsg struct {
	InstanceID  string
	WorkerID    int64
	IP          string
	Port        int64
	PeerInitURL *string // Optional[str], required (nil encodes as None)
}

// TypeName returns "RegisterMsg".
func (RegisterMsg) TypeName() string { return TypeRegisterMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m RegisterMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x86)
	dst = append(dst, kType...)
	dst = append(dst, tRegisterMsg...)
	return appendWorkerAddr(dst, m.InstanceID, m.WorkerID, m.IP, m.Port, m.PeerInitURL, true)
}

func appendWorkerAddr(dst []byte, inst string, wid int64, ip string, port int64, peer *string, withPeer bool) []byte {
	dst = append(dst, kInstanceID...)
	dst = appendStr(dst, inst)
	dst = append(dst, kWorkerID...)
	dst = appendInt(dst, wid)
	dst = append(dst, kIP...)
	dst = appendStr(dst, ip)
	dst = append(dst, kPort...)
	dst = appendInt(dst, port)
	if withPeer {
		dst = append(dst, kPeerInitURL...)
		dst = appendOptStr(dst, peer)
	}
	return dst
}

// StrPair is one entry of an insertion-ordered dict[str, str].
type StrPair struct {
	Key, Value string
}

// RegisterRetMsg answers RegisterMsg. ExtraConfig keeps insertion order;
// nil and empty both encode as {}.
type RegisterRetMsg struct {
	ExtraConfig []StrPair
}

// TypeName returns "RegisterRetMsg".
func (RegisterRetMsg) TypeName() string { return TypeRegisterRetMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m RegisterRetMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x82)
	dst = append(dst, kType...)
	dst = append(dst, tRegisterRetMsg...)
	dst = append(dst, kExtraConfig...)
	dst = appendMapHeader(dst, len(m.ExtraConfig))
	for _, p := range m.ExtraConfig {
		dst = appendStr(dst, p.Key)
		dst = appendStr(dst, p.Value)
	}
	return dst
}

// Get returns the value of key k in extra_config (the last one if repeated).
func (m RegisterRetMsg) Get(k string) (string, bool) {
	for i := len(m.ExtraConfig) - 1; i >= 0; i-- {
		if m.ExtraConfig[i].Key == k {
			return m.ExtraConfig[i].Value, true
		}
	}
	return "", false
}

// DeRegisterMsg removes a worker (PUSH).
type DeRegisterMsg struct {
	InstanceID string
	WorkerID   int64
	IP         string
	Port       int64
}

// TypeName returns "DeRegisterMsg".
func (DeRegisterMsg) TypeName() string { return TypeDeRegisterMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m DeRegisterMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x85)
	dst = append(dst, kType...)
	dst = append(dst, tDeRegisterMsg...)
	return appendWorkerAddr(dst, m.InstanceID, m.WorkerID, m.IP, m.Port, nil, false)
}

// HeartbeatMsg is a worker heartbeat (DEALER -> heartbeat or reply socket).
type HeartbeatMsg struct {
	InstanceID  string
	WorkerID    int64
	IP          string
	Port        int64
	PeerInitURL *string // Optional[str], required
}

// TypeName returns "HeartbeatMsg".
func (HeartbeatMsg) TypeName() string { return TypeHeartbeatMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m HeartbeatMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x86)
	dst = append(dst, kType...)
	dst = append(dst, tHeartbeatMsg...)
	return appendWorkerAddr(dst, m.InstanceID, m.WorkerID, m.IP, m.Port, m.PeerInitURL, true)
}

// Tags of HeartbeatCommand (tag_field "command_type").
const (
	CommandFullSync = "full_sync"        // FullSyncCommand
	CommandGeneric  = "HeartbeatCommand" // the base class itself
)

// HeartbeatCommand is LMCache's HeartbeatCommand struct (tag_field
// "command_type"); CommandType is its tag: CommandFullSync for
// FullSyncCommand or CommandGeneric for the base class.
type HeartbeatCommand struct {
	CommandType string
	Reason      *string // Optional[str] = None
	Args        *Dict   // Optional[Dict[str, Any]] = None
}

// FullSyncCommand returns the FullSyncCommand(reason=reason) value.
func FullSyncCommand(reason string) HeartbeatCommand {
	return HeartbeatCommand{CommandType: CommandFullSync, Reason: &reason}
}

// AppendMsgpack appends msgspec's encoding of c (a nested struct).
func (c HeartbeatCommand) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x83)
	dst = append(dst, kCommandType...)
	dst = appendStr(dst, c.CommandType)
	dst = append(dst, kReason...)
	dst = appendOptStr(dst, c.Reason)
	dst = append(dst, kArgs...)
	if c.Args == nil {
		return appendNil(dst)
	}
	return c.Args.AppendMsgpack(dst)
}

// HeartbeatRetMsg answers HeartbeatMsg.
type HeartbeatRetMsg struct {
	Commands []HeartbeatCommand
}

// TypeName returns "HeartbeatRetMsg".
func (HeartbeatRetMsg) TypeName() string { return TypeHeartbeatRetMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m HeartbeatRetMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x82)
	dst = append(dst, kType...)
	dst = append(dst, tHeartbeatRetMsg...)
	dst = append(dst, kCommands...)
	dst = appendArrayHeader(dst, len(m.Commands))
	for i := range m.Commands {
		dst = m.Commands[i].AppendMsgpack(dst)
	}
	return dst
}

// OpType is LMCache's OpType enum, encoded as its string value.
type OpType uint8

// OpType values.
const (
	OpAdmit OpType = iota // "admit"
	OpEvict               // "evict"
)

// String returns "admit" or "evict".
func (o OpType) String() string {
	switch o {
	case OpAdmit:
		return "admit"
	case OpEvict:
		return "evict"
	}
	return "OpType(" + itoa(int64(o)) + ")"
}

func (o OpType) appendMsgpack(dst []byte) []byte {
	switch o {
	case OpAdmit:
		return append(dst, vAdmit...)
	case OpEvict:
		return append(dst, vEvict...)
	}
	return appendStr(dst, o.String())
}

// KVOpEvent is one KV operation inside a BatchedKVOperationMsg (an untagged
// struct).
type KVOpEvent struct {
	OpType OpType
	Key    Int
	SeqNum int64
}

// AppendMsgpack appends msgspec's encoding of e (a nested untagged struct).
func (e KVOpEvent) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x83)
	dst = append(dst, kOpType...)
	dst = e.OpType.appendMsgpack(dst)
	dst = append(dst, kKey...)
	dst = e.Key.AppendMsgpack(dst)
	dst = append(dst, kSeqNum...)
	return appendInt(dst, e.SeqNum)
}

// BatchedKVOperationMsg carries a batch of admits/evicts for one
// (instance, worker, location) (PUSH).
type BatchedKVOperationMsg struct {
	InstanceID string
	WorkerID   int64
	Location   string
	Operations []KVOpEvent
}

// TypeName returns "BatchedKVOperationMsg".
func (BatchedKVOperationMsg) TypeName() string { return TypeBatchedKVOperationMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m BatchedKVOperationMsg) AppendMsgpack(dst []byte) []byte {
	dst = appendBatchedKVHeader(dst, m.InstanceID, m.WorkerID, m.Location)
	dst = appendArrayHeader(dst, len(m.Operations))
	for i := range m.Operations {
		dst = m.Operations[i].AppendMsgpack(dst)
	}
	return dst
}

func appendBatchedKVHeader(dst []byte, inst string, wid int64, loc string) []byte {
	dst = append(dst, 0x85)
	dst = append(dst, kType...)
	dst = append(dst, tBatchedKVOperationMsg...)
	dst = append(dst, kInstanceID...)
	dst = appendStr(dst, inst)
	dst = append(dst, kWorkerID...)
	dst = appendInt(dst, wid)
	dst = append(dst, kLocation...)
	dst = appendStr(dst, loc)
	return append(dst, kOperations...)
}

// BatchedP2PLookupMsg asks which peer holds the longest prefix of hashes
// (DEALER -> reply socket).
type BatchedP2PLookupMsg struct {
	Hashes     []Int
	InstanceID string
	WorkerID   int64
}

// TypeName returns "BatchedP2PLookupMsg".
func (BatchedP2PLookupMsg) TypeName() string { return TypeBatchedP2PLookupMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m BatchedP2PLookupMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x84)
	dst = append(dst, kType...)
	dst = append(dst, tBatchedP2PLookupMsg...)
	dst = append(dst, kHashes...)
	dst = appendArrayHeader(dst, len(m.Hashes))
	for _, h := range m.Hashes {
		dst = h.AppendMsgpack(dst)
	}
	return appendP2PTail(dst, m.InstanceID, m.WorkerID)
}

func appendP2PTail(dst []byte, inst string, wid int64) []byte {
	dst = append(dst, kInstanceID...)
	dst = appendStr(dst, inst)
	dst = append(dst, kWorkerID...)
	return appendInt(dst, wid)
}

// LayoutInfo is one tuple[str, str, int, str] of
// BatchedP2PLookupRetMsg.layout_info: (instance_id, location,
// num_hit_chunks, peer_init_url). It encodes as a 4-element array.
type LayoutInfo struct {
	InstanceID   string
	Location     string
	NumHitChunks int64
	PeerInitURL  string
}

// AppendMsgpack appends the 4-element array encoding of l.
func (l LayoutInfo) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x94)
	dst = appendStr(dst, l.InstanceID)
	dst = appendStr(dst, l.Location)
	dst = appendInt(dst, l.NumHitChunks)
	return appendStr(dst, l.PeerInitURL)
}

// BatchedP2PLookupRetMsg answers BatchedP2PLookupMsg. The controller always
// sends exactly one tuple; a miss is LayoutInfo{} ("", "", 0, "").
type BatchedP2PLookupRetMsg struct {
	LayoutInfo []LayoutInfo
}

// TypeName returns "BatchedP2PLookupRetMsg".
func (BatchedP2PLookupRetMsg) TypeName() string { return TypeBatchedP2PLookupRetMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m BatchedP2PLookupRetMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x82)
	dst = append(dst, kType...)
	dst = append(dst, tBatchedP2PLookupRetMsg...)
	dst = append(dst, kLayoutInfo...)
	dst = appendArrayHeader(dst, len(m.LayoutInfo))
	for i := range m.LayoutInfo {
		dst = m.LayoutInfo[i].AppendMsgpack(dst)
	}
	return dst
}

// ErrorMsg is the controller's reply to a request it could not decode or
// does not handle.
type ErrorMsg struct {
	Error string
}

// TypeName returns "ErrorMsg".
func (ErrorMsg) TypeName() string { return TypeErrorMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m ErrorMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x82)
	dst = append(dst, kType...)
	dst = append(dst, tErrorMsg...)
	dst = append(dst, kError...)
	return appendStr(dst, m.Error)
}

// KVAdmitMsg is the single-key admit message (decodes, but the controller
// has no handler for it).
type KVAdmitMsg struct {
	InstanceID string
	WorkerID   int64
	Key        Int
	Location   string
	SeqNum     int64 // = 0
}

// TypeName returns "KVAdmitMsg".
func (KVAdmitMsg) TypeName() string { return TypeKVAdmitMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m KVAdmitMsg) AppendMsgpack(dst []byte) []byte {
	return appendKVOp(dst, tKVAdmitMsg, m.InstanceID, m.WorkerID, m.Key, m.Location, m.SeqNum)
}

// KVEvictMsg is the single-key evict message (decodes, but the controller
// has no handler for it).
type KVEvictMsg struct {
	InstanceID string
	WorkerID   int64
	Key        Int
	Location   string
	SeqNum     int64 // = 0
}

// TypeName returns "KVEvictMsg".
func (KVEvictMsg) TypeName() string { return TypeKVEvictMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m KVEvictMsg) AppendMsgpack(dst []byte) []byte {
	return appendKVOp(dst, tKVEvictMsg, m.InstanceID, m.WorkerID, m.Key, m.Location, m.SeqNum)
}

func appendKVOp(dst []byte, tag string, inst string, wid int64, key Int, loc string, seq int64) []byte {
	dst = append(dst, 0x86)
	dst = append(dst, kType...)
	dst = append(dst, tag...)
	dst = append(dst, kInstanceID...)
	dst = appendStr(dst, inst)
	dst = append(dst, kWorkerID...)
	dst = appendInt(dst, wid)
	dst = append(dst, kKey...)
	dst = key.AppendMsgpack(dst)
	dst = append(dst, kLocation...)
	dst = appendStr(dst, loc)
	dst = append(dst, kSeqNum...)
	return appendInt(dst, seq)
}

func appendIIL(dst []byte, inst string, wid int64, loc string) []byte {
	dst = append(dst, kInstanceID...)
	dst = appendStr(dst, inst)
	dst = append(dst, kWorkerID...)
	dst = appendInt(dst, wid)
	dst = append(dst, kLocation...)
	return appendStr(dst, loc)
}

// FullSyncStartMsg starts a full sync (request).
type FullSyncStartMsg struct {
	InstanceID string
	WorkerID   int64
	Location   string
	SyncID     string
	TotalKeys  int64
	BatchCount int64
}

// TypeName returns "FullSyncStartMsg".
func (FullSyncStartMsg) TypeName() string { return TypeFullSyncStartMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m FullSyncStartMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x87)
	dst = append(dst, kType...)
	dst = append(dst, tFullSyncStartMsg...)
	dst = appendIIL(dst, m.InstanceID, m.WorkerID, m.Location)
	dst = append(dst, kSyncID...)
	dst = appendStr(dst, m.SyncID)
	dst = append(dst, kTotalKeys...)
	dst = appendInt(dst, m.TotalKeys)
	dst = append(dst, kBatchCount...)
	return appendInt(dst, m.BatchCount)
}

// FullSyncStartRetMsg answers FullSyncStartMsg.
type FullSyncStartRetMsg struct {
	SyncID   string
	Accepted bool
	ErrorMsg *string // Optional[str] = None
}

// TypeName returns "FullSyncStartRetMsg".
func (FullSyncStartRetMsg) TypeName() string { return TypeFullSyncStartRetMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m FullSyncStartRetMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x84)
	dst = append(dst, kType...)
	dst = append(dst, tFullSyncStartRetMsg...)
	dst = append(dst, kSyncID...)
	dst = appendStr(dst, m.SyncID)
	dst = append(dst, kAccepted...)
	dst = appendBool(dst, m.Accepted)
	dst = append(dst, kErrorMsg...)
	return appendOptStr(dst, m.ErrorMsg)
}

// FullSyncBatchMsg carries one batch of keys of a full sync (PUSH).
type FullSyncBatchMsg struct {
	InstanceID string
	WorkerID   int64
	Location   string
	SyncID     string
	BatchID    int64
	Keys       []Int
}

// TypeName returns "FullSyncBatchMsg".
func (FullSyncBatchMsg) TypeName() string { return TypeFullSyncBatchMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m FullSyncBatchMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x87)
	dst = append(dst, kType...)
	dst = append(dst, tFullSyncBatchMsg...)
	dst = appendIIL(dst, m.InstanceID, m.WorkerID, m.Location)
	dst = append(dst, kSyncID...)
	dst = appendStr(dst, m.SyncID)
	dst = append(dst, kBatchID...)
	dst = appendInt(dst, m.BatchID)
	dst = append(dst, kKeys...)
	dst = appendArrayHeader(dst, len(m.Keys))
	for _, k := range m.Keys {
		dst = k.AppendMsgpack(dst)
	}
	return dst
}

// FullSyncEndMsg ends a full sync (PUSH).
type FullSyncEndMsg struct {
	InstanceID      string
	WorkerID        int64
	Location        string
	SyncID          string
	ActualTotalKeys int64
}

// TypeName returns "FullSyncEndMsg".
func (FullSyncEndMsg) TypeName() string { return TypeFullSyncEndMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m FullSyncEndMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x86)
	dst = append(dst, kType...)
	dst = append(dst, tFullSyncEndMsg...)
	dst = appendIIL(dst, m.InstanceID, m.WorkerID, m.Location)
	dst = append(dst, kSyncID...)
	dst = appendStr(dst, m.SyncID)
	dst = append(dst, kActualTotalKeys...)
	return appendInt(dst, m.ActualTotalKeys)
}

// FullSyncStatusMsg asks for the status of a full sync (request).
type FullSyncStatusMsg struct {
	InstanceID string
	WorkerID   int64
	SyncID     string
}

// TypeName returns "FullSyncStatusMsg".
func (FullSyncStatusMsg) TypeName() string { return TypeFullSyncStatusMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m FullSyncStatusMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x84)
	dst = append(dst, kType...)
	dst = append(dst, tFullSyncStatusMsg...)
	dst = append(dst, kInstanceID...)
	dst = appendStr(dst, m.InstanceID)
	dst = append(dst, kWorkerID...)
	dst = appendInt(dst, m.WorkerID)
	dst = append(dst, kSyncID...)
	return appendStr(dst, m.SyncID)
}

// FullSyncStatusRetMsg answers FullSyncStatusMsg.
type FullSyncStatusRetMsg struct {
	SyncID         string
	IsComplete     bool
	GlobalProgress float64
	CanExitFreeze  bool
	MissingBatches []int64 // = []
}

// TypeName returns "FullSyncStatusRetMsg".
func (FullSyncStatusRetMsg) TypeName() string { return TypeFullSyncStatusRetMsg }

// AppendMsgpack appends msgspec's encoding of m.
func (m FullSyncStatusRetMsg) AppendMsgpack(dst []byte) []byte {
	dst = append(dst, 0x86)
	dst = append(dst, kType...)
	dst = append(dst, tFullSyncStatusRetMsg...)
	dst = append(dst, kSyncID...)
	dst = appendStr(dst, m.SyncID)
	dst = append(dst, kIsComplete...)
	dst = appendBool(dst, m.IsComplete)
	dst = append(dst, kGlobalProgress...)
	dst = appendFloat(dst, m.GlobalProgress)
	dst = append(dst, kCanExitFreeze...)
	dst = appendBool(dst, m.CanExitFreeze)
	dst = append(dst, kMissingBatches...)
	dst = appendArrayHeader(dst, len(m.MissingBatches))
	for _, b := range m.MissingBatches {
		dst = appendInt(dst, b)
	}
	return dst
}

// GenericMsg is any other class of the Msg union (orchestration and control
// messages the benchmark never sends). Type is the class name and Fields are
// the fields in declaration order (defaults filled in) for classes whose
// schema is known, or in wire order for the others.
type GenericMsg struct {
	Type   string
	Fields []Field
}

// TypeName returns the class name.
func (m GenericMsg) TypeName() string { return m.Type }

// AppendMsgpack appends msgspec's encoding of m.
func (m GenericMsg) AppendMsgpack(dst []byte) []byte {
	dst = appendMapHeader(dst, len(m.Fields)+1)
	dst = append(dst, kType...)
	dst = appendStr(dst, m.Type)
	for i := range m.Fields {
		dst = appendStr(dst, m.Fields[i].Name)
		dst = m.Fields[i].Value.AppendMsgpack(dst)
	}
	return dst
}

// Get returns the field named name.
func (m GenericMsg) Get(name string) (Value, bool) {
	for i := range m.Fields {
		if m.Fields[i].Name == name {
			return m.Fields[i].Value, true
		}
	}
	return Value{}, false
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// Pre-encoded keys (MessagePack str) used by the encoders.
var (
	kType            = tok("type")
	kCommandType     = tok("command_type")
	kInstanceID      = tok("instance_id")
	kWorkerID        = tok("worker_id")
	kIP              = tok("ip")
	kPort            = tok("port")
	kPeerInitURL     = tok("peer_init_url")
	kExtraConfig     = tok("extra_config")
	kCommands        = tok("commands")
	kReason          = tok("reason")
	kArgs            = tok("args")
	kLocation        = tok("location")
	kOperations      = tok("operations")
	kOpType          = tok("op_type")
	kKey             = tok("key")
	kSeqNum          = tok("seq_num")
	kHashes          = tok("hashes")
	kLayoutInfo      = tok("layout_info")
	kError           = tok("error")
	kSyncID          = tok("sync_id")
	kTotalKeys       = tok("total_keys")
	kBatchCount      = tok("batch_count")
	kAccepted        = tok("accepted")
	kErrorMsg        = tok("error_msg")
	kBatchID         = tok("batch_id")
	kKeys            = tok("keys")
	kActualTotalKeys = tok("actual_total_keys")
	kIsComplete      = tok("is_complete")
	kGlobalProgress  = tok("global_progress")
	kCanExitFreeze   = tok("can_exit_freeze")
	kMissingBatches  = tok("missing_batches")
	vAdmit           = tok("admit")
	vEvict           = tok("evict")
)

// Pre-encoded tags (MessagePack str) used by the encoders.
var (
	tRegisterMsg            = tok(TypeRegisterMsg)
	tRegisterRetMsg         = tok(TypeRegisterRetMsg)
	tDeRegisterMsg          = tok(TypeDeRegisterMsg)
	tHeartbeatMsg           = tok(TypeHeartbeatMsg)
	tHeartbeatRetMsg        = tok(TypeHeartbeatRetMsg)
	tBatchedKVOperationMsg  = tok(TypeBatchedKVOperationMsg)
	tBatchedP2PLookupMsg    = tok(TypeBatchedP2PLookupMsg)
	tBatchedP2PLookupRetMsg = tok(TypeBatchedP2PLookupRetMsg)
	tErrorMsg               = tok(TypeErrorMsg)
	tKVAdmitMsg             = tok(TypeKVAdmitMsg)
	tKVEvictMsg             = tok(TypeKVEvictMsg)
	tFullSyncStartMsg       = tok(TypeFullSyncStartMsg)
	tFullSyncStartRetMsg    = tok(TypeFullSyncStartRetMsg)
	tFullSyncBatchMsg       = tok(TypeFullSyncBatchMsg)
	tFullSyncEndMsg         = tok(TypeFullSyncEndMsg)
	tFullSyncStatusMsg      = tok(TypeFullSyncStatusMsg)
	tFullSyncStatusRetMsg   = tok(TypeFullSyncStatusRetMsg)
)

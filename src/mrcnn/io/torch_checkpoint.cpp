#include "mrcnn/io/torch_checkpoint.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"

namespace mrcnn::io {
namespace {

// The Python objects a state dict pickle is made of. They live in the unpickler's arena and
// refer to each other by plain pointers: whatever a (hostile) pickle builds -- lists nested a
// million deep, a list inside itself -- is freed in one flat pass, never recursively.
struct PyObj {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kTuple,
    kList,
    kDict,
    kGlobal,
    kTensor,
    kStorage,
    kArray,  // a numpy array: a tensor once BUILD has given it its state
    kDtype,  // a numpy dtype: its code ("f4") in s, its byte order in i
    kMark
  };
  Kind kind = Kind::kNone;
  int64_t i = 0;
  double f = 0;
  std::string s;                                // string, or "module.name" of a global
  std::vector<PyObj*> items;                    // tuple, list
  std::vector<std::pair<PyObj*, PyObj*>> dict;  // in insertion order
  at::Tensor tensor;                            // tensor, or a storage as a flat tensor
};

// Deeper than any state dict (a few levels: the dict, its wrapper, tensor arguments); a pickle
// past it is refused before anything walks it.
constexpr int kMaxNesting = 64;

at::ScalarType storage_dtype(const std::string& type) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"torch.FloatStorage", at::kFloat}, {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},   {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},   {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort}, {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},   {"torch.BoolStorage", at::kBool}};
  const auto it = kTypes.find(type);
  if (it == kTypes.end()) throw Error("unsupported storage type '" + type + "'");
  return it->second;
}

// Loads the storage with this key as a flat tensor of `numel` elements.
using StorageLoader =
    std::function<at::Tensor(const std::string& key, at::ScalarType dtype, int64_t numel)>;

class Unpickler {
 public:
  Unpickler(std::span<const uint8_t> data, StorageLoader loader)
      : data_(data), loader_(std::move(loader)) {}

  std::size_t position() const { return pos_; }
  // The next pickle's object; it stays valid as long as the unpickler.
  const PyObj* load();

 private:
  PyObj* make(PyObj::Kind kind) {
    arena_.push_back(std::make_unique<PyObj>());
    arena_.back()->kind = kind;
    return arena_.back().get();
  }
  uint8_t byte() {
    need(1);
    return data_[pos_++];
  }
  void need(std::size_t n) const {
    if (n > data_.size() - pos_)
      throw Error("pickle ends unexpectedly at byte " + std::to_string(pos_));
  }
  template <class T>
  T read() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string bytes(std::size_t n) {
    need(n);
    std::string out(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return out;
  }
  std::string line() {
    std::string out;
    for (uint8_t c; (c = byte()) != '\n';) out.push_back(static_cast<char>(c));
    return out;
  }
  PyObj* pop() {
    if (stack_.empty()) throw Error("malformed pickle: stack underflow");
    PyObj* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  PyObj* top() const {
    if (stack_.empty()) throw Error("malformed pickle: stack underflow");
    return stack_.back();
  }
  std::vector<PyObj*> pop_to_mark() {
    std::vector<PyObj*> items;
    while (true) {
      PyObj* o = pop();
      if (o->kind == PyObj::Kind::kMark) break;
      items.push_back(o);
    }
    return {items.rbegin(), items.rend()};
  }
  // Containers track how deep they nest, so that nothing deeper than kMaxNesting is built.
  void nest(PyObj* container, const PyObj* child) {
    auto& depth = depth_[container];
    depth = std::max(depth, depth_of(child) + 1);
    if (depth > kMaxNesting) {
      throw Error("the pickle nests containers more than " + std::to_string(kMaxNesting) +
                  " deep; no state dict does");
    }
  }
  int depth_of(const PyObj* o) const {
    const auto it = depth_.find(o);
    return it == depth_.end() ? 0 : it->second;
  }
  PyObj* container(PyObj::Kind kind, std::vector<PyObj*> items) {
    PyObj* o = make(kind);
    for (const PyObj* item : items) nest(o, item);
    o->items = std::move(items);
    return o;
  }
  void push_int(int64_t v) {
    PyObj* o = make(PyObj::Kind::kInt);
    o->i = v;
    stack_.push_back(o);
  }
  void push_string(std::string s) {
    PyObj* o = make(PyObj::Kind::kString);
    o->s = std::move(s);
    stack_.push_back(o);
  }
  void push_global(const std::string& module, const std::string& name) {
    PyObj* o = make(PyObj::Kind::kGlobal);
    o->s = module + "." + name;
    stack_.push_back(o);
  }
  void memoize(int64_t key) { memo_[key] = top(); }
  PyObj* reduce(const PyObj* callable, const PyObj* args);
  PyObj* persistent_load(const PyObj* pid);

  std::span<const uint8_t> data_;
  std::size_t pos_ = 0;
  StorageLoader loader_;
  std::vector<std::unique_ptr<PyObj>> arena_;
  std::unordered_map<const PyObj*, int> depth_;
  std::vector<PyObj*> stack_;
  std::unordered_map<int64_t, PyObj*> memo_;
  std::unordered_map<std::string, at::Tensor> storages_;
};

const std::vector<PyObj*>& tuple_items(const PyObj* o, const char* what) {
  if (o->kind != PyObj::Kind::kTuple && o->kind != PyObj::Kind::kList) {
    throw Error(std::string("malformed checkpoint: ") + what + " is not a tuple");
  }
  return o->items;
}

int64_t integer(const PyObj* o, const char* what) {
  if (o->kind != PyObj::Kind::kInt && o->kind != PyObj::Kind::kBool) {
    throw Error(std::string("malformed checkpoint: ") + what + " is not an integer");
  }
  return o->i;
}

PyObj* Unpickler::persistent_load(const PyObj* pid) {
  // ('storage', storage_type, key, location, numel[, view_metadata])
  const auto& items = tuple_items(pid, "a persistent id");
  if (items.size() < 5 || items[0]->s != "storage") {
    throw Error("unsupported persistent id in checkpoint");
  }
  const at::ScalarType dtype = storage_dtype(items[1]->s);
  const std::string key = items[2]->s;
  const int64_t numel = integer(items[4], "a storage size");
  if (numel < 0) throw Error("malformed checkpoint: storage " + key + " has a negative size");
  auto it = storages_.find(key);
  if (it == storages_.end()) it = storages_.emplace(key, loader_(key, dtype, numel)).first;
  if (it->second.scalar_type() != dtype || it->second.numel() != numel) {
    throw Error("malformed checkpoint: storage " + key + " is used with two types or sizes");
  }
  PyObj* o = make(PyObj::Kind::kStorage);
  o->tensor = it->second;
  return o;
}

// The bytes a str of code points < 256 stands for (Python's str.encode("latin1")).
std::string latin1_from_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t k = 0; k < text.size(); ++k) {
    const auto c = static_cast<uint8_t>(text[k]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if ((c == 0xc2 || c == 0xc3) && k + 1 < text.size()) {
      out.push_back(
          static_cast<char>(((c & 0x03) << 6) | (static_cast<uint8_t>(text[++k]) & 0x3f)));
    } else {
      throw Error("malformed latin-1 data in checkpoint");
    }
  }
  return out;
}

// numpy dtype codes as numpy pickles them ("f4"), and the tensor types they read into.
at::ScalarType numpy_dtype(const std::string& code) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"f4", at::kFloat}, {"f8", at::kDouble}, {"f2", at::kHalf},
      {"i8", at::kLong},  {"i4", at::kInt},    {"i2", at::kShort},
      {"i1", at::kChar},  {"u1", at::kByte},   {"b1", at::kBool}};
  const auto it = kTypes.find(code);
  if (it == kTypes.end()) throw Error("unsupported numpy dtype '" + code + "'");
  return it->second;
}

// A numpy array's state, (version, shape, dtype, is_fortran, raw bytes), as its tensor.
at::Tensor array_from_state(const PyObj* state) {
  const auto& s = tuple_items(state, "an array's state");
  if (s.size() != 5 || s[2]->kind != PyObj::Kind::kDtype || s[4]->kind != PyObj::Kind::kString)
    throw Error("malformed numpy array in checkpoint");
  const at::ScalarType dtype = numpy_dtype(s[2]->s);
  if (s[2]->i == '>') throw Error("big-endian numpy arrays are not supported");
  std::vector<int64_t> shape;
  int64_t numel = 1;
  bool overflow = false;
  for (const PyObj* v : tuple_items(s[1], "an array's shape")) {
    const int64_t n = integer(v, "an array size");
    if (n < 0) throw Error("malformed numpy array in checkpoint: negative size");
    overflow |= __builtin_mul_overflow(numel, n, &numel);
    shape.push_back(n);
  }
  const std::string& raw = s[4]->s;
  int64_t bytes = 0;
  overflow |= __builtin_mul_overflow(numel, int64_t(at::elementSize(dtype)), &bytes);
  if (overflow || bytes != static_cast<int64_t>(raw.size()))
    throw Error("malformed numpy array in checkpoint: its data does not match its shape");
  // Fortran order holds the reversed shape in C order.
  const bool fortran = integer(s[3], "an array's order") != 0;
  std::vector<int64_t> stored = shape;
  if (fortran) std::reverse(stored.begin(), stored.end());
  at::Tensor t = at::empty(stored, at::TensorOptions().dtype(dtype));
  if (bytes > 0) std::memcpy(t.data_ptr(), raw.data(), raw.size());
  if (fortran) {
    std::vector<int64_t> order(shape.size());
    for (std::size_t d = 0; d < order.size(); ++d) order[d] = int64_t(order.size() - 1 - d);
    t = t.permute(order).contiguous();
  }
  return t;
}

PyObj* Unpickler::reduce(const PyObj* callable, const PyObj* args) {
  const std::string& name = callable->s;
  if (name == "collections.OrderedDict") return make(PyObj::Kind::kDict);
  // Paddle's .pdparams: numpy arrays (numpy 1 and 2 spell the module differently).
  if (name == "numpy.core.multiarray._reconstruct" || name == "numpy._core.multiarray._reconstruct")
    return make(PyObj::Kind::kArray);
  if (name == "_codecs.encode") {
    // Protocol 2 has no bytes type: numpy writes its raw data as a str of code points < 256,
    // to be encoded as latin-1.
    const auto& a = tuple_items(args, "encode arguments");
    if (a.size() != 2 || a[0]->kind != PyObj::Kind::kString || a[1]->s != "latin1")
      throw Error("unsupported _codecs.encode in checkpoint");
    PyObj* o = make(PyObj::Kind::kString);
    o->s = latin1_from_utf8(a[0]->s);
    return o;
  }
  if (name == "__builtin__.bytes" || name == "builtins.bytes") {
    // Protocol 2's b"": bytes() (a protocol-2 pickle writes no other bytes this way here).
    if (!tuple_items(args, "bytes arguments").empty())
      throw Error("unsupported bytes(...) in checkpoint");
    return make(PyObj::Kind::kString);
  }
  if (name == "numpy.dtype") {
    const auto& a = tuple_items(args, "dtype arguments");
    if (a.empty() || a[0]->kind != PyObj::Kind::kString) throw Error("malformed numpy dtype");
    PyObj* o = make(PyObj::Kind::kDtype);
    o->s = a[0]->s;
    o->i = '<';
    return o;
  }
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
    // (storage, storage_offset, size, stride, ...)
    const auto& a = tuple_items(args, "tensor arguments");
    if (a.size() < 4 || a[0]->kind != PyObj::Kind::kStorage)
      throw Error("malformed tensor in checkpoint");
    std::vector<int64_t> sizes, strides;
    for (const PyObj* v : tuple_items(a[2], "a tensor size")) sizes.push_back(integer(v, "a size"));
    for (const PyObj* v : tuple_items(a[3], "a tensor stride"))
      strides.push_back(integer(v, "a stride"));
    const int64_t offset = integer(a[1], "a storage offset");
    if (sizes.size() != strides.size())
      throw Error("malformed tensor in checkpoint: rank mismatch");
    // The view must lie inside its storage: the last element it reaches must exist. Checked
    // with overflow detection, since every number here comes from the file.
    const int64_t storage = a[0]->tensor.numel();
    bool empty = false;
    int64_t last = offset, numel = 1;
    bool overflow = offset < 0;
    for (std::size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] < 0 || strides[d] < 0)
        throw Error("malformed tensor in checkpoint: negative size");
      if (sizes[d] == 0) empty = true;
      int64_t reach = 0;
      overflow |= __builtin_mul_overflow(std::max<int64_t>(sizes[d] - 1, 0), strides[d], &reach);
      overflow |= __builtin_add_overflow(last, reach, &last);
      overflow |= __builtin_mul_overflow(numel, sizes[d], &numel);
    }
    if (overflow || (!empty && last >= storage)) {
      throw Error("malformed tensor in checkpoint: the view lies outside its storage");
    }
    PyObj* o = make(PyObj::Kind::kTensor);
    o->tensor = empty ? at::empty(sizes, a[0]->tensor.options())
                      : a[0]->tensor.as_strided(sizes, strides, offset);
    return o;
  }
  if (name == "torch._utils._rebuild_parameter") {
    const auto& a = tuple_items(args, "parameter arguments");
    if (a.empty()) throw Error("malformed parameter in checkpoint");
    return a[0];
  }
  throw Error("unsupported object '" + name + "' in checkpoint (only tensors and dicts are read)");
}

const PyObj* Unpickler::load() {
  stack_.clear();
  memo_.clear();
  using K = PyObj::Kind;
  while (true) {
    const uint8_t op = byte();
    switch (op) {
      case 0x80:
        byte();
        break;  // PROTO
      case 0x95:
        read<uint64_t>();
        break;  // FRAME
      case '.':
        return pop();  // STOP
      case '(':
        stack_.push_back(make(K::kMark));
        break;
      case 'N':
        stack_.push_back(make(K::kNone));
        break;
      case 0x88:
      case 0x89: {  // NEWTRUE, NEWFALSE
        PyObj* o = make(K::kBool);
        o->i = op == 0x88;
        stack_.push_back(o);
        break;
      }
      case 'J':
        push_int(read<int32_t>());
        break;
      case 'K':
        push_int(read<uint8_t>());
        break;
      case 'M':
        push_int(read<uint16_t>());
        break;
      case 0x8a: {  // LONG1
        const uint8_t n = byte();
        uint64_t v = 0;  // wider integers (the legacy format's magic number) keep their low bits
        for (uint8_t k = 0; k < n; ++k) {
          const uint8_t b = byte();
          if (k < 8) v |= uint64_t(b) << (8 * k);
        }
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v -= uint64_t(1) << (8 * n);  // sign
        push_int(static_cast<int64_t>(v));
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | byte();
        PyObj* o = make(K::kFloat);
        std::memcpy(&o->f, &bits, 8);
        stack_.push_back(o);
        break;
      }
      case 'X':
      case 'T':  // BINUNICODE, BINSTRING
        push_string(bytes(read<uint32_t>()));
        break;
      case 0x8c:
      case 'U':  // SHORT_BINUNICODE, SHORT_BINSTRING
        push_string(bytes(byte()));
        break;
      case 'c': {  // GLOBAL
        const std::string module = line();
        push_global(module, line());
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const PyObj* name = pop();
        const PyObj* module = pop();
        push_global(module->s, name->s);
        break;
      }
      case ')':
        stack_.push_back(make(K::kTuple));
        break;
      case ']':
        stack_.push_back(make(K::kList));
        break;
      case '}':
        stack_.push_back(make(K::kDict));
        break;
      case 't':
        stack_.push_back(container(K::kTuple, pop_to_mark()));
        break;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        std::vector<PyObj*> items(op - 0x84);
        for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
        stack_.push_back(container(K::kTuple, std::move(items)));
        break;
      }
      case 'a': {  // APPEND
        PyObj* v = pop();
        PyObj* list = top();
        nest(list, v);
        list->items.push_back(v);
        break;
      }
      case 'e': {  // APPENDS
        const auto values = pop_to_mark();
        PyObj* list = top();
        for (const PyObj* v : values) nest(list, v);
        list->items.insert(list->items.end(), values.begin(), values.end());
        break;
      }
      case 's': {  // SETITEM
        PyObj* v = pop();
        PyObj* k = pop();
        PyObj* dict = top();
        nest(dict, k);
        nest(dict, v);
        dict->dict.emplace_back(k, v);
        break;
      }
      case 'u': {  // SETITEMS
        const auto kv = pop_to_mark();
        if (kv.size() % 2) throw Error("malformed pickle: odd SETITEMS");
        PyObj* dict = top();
        for (std::size_t k = 0; k < kv.size(); k += 2) {
          nest(dict, kv[k]);
          nest(dict, kv[k + 1]);
          dict->dict.emplace_back(kv[k], kv[k + 1]);
        }
        break;
      }
      case 'q':
        memoize(byte());
        break;  // BINPUT
      case 'r':
        memoize(read<uint32_t>());
        break;  // LONG_BINPUT
      case 0x94:
        memoize(static_cast<int64_t>(memo_.size()));
        break;  // MEMOIZE
      case 'h':
      case 'j': {  // BINGET, LONG_BINGET
        const int64_t key = op == 'h' ? byte() : read<uint32_t>();
        const auto it = memo_.find(key);
        if (it == memo_.end()) throw Error("malformed pickle: unknown memo key");
        stack_.push_back(it->second);
        break;
      }
      case 'R':
      case 0x81: {  // REDUCE; NEWOBJ: cls.__new__(cls, *args)
        const PyObj* args = pop();
        const PyObj* callable = pop();
        stack_.push_back(reduce(callable, args));
        break;
      }
      case 'b': {  // BUILD: numpy arrays and dtypes take their state; others' is not needed
        const PyObj* state = pop();
        PyObj* target = top();
        if (target->kind == K::kArray) {
          if (target->tensor.defined()) throw Error("malformed pickle: an array built twice");
          target->tensor = array_from_state(state);
        } else if (target->kind == K::kDtype) {
          const auto& items = tuple_items(state, "a dtype's state");
          if (items.size() > 1 && items[1]->kind == K::kString && items[1]->s.size() == 1)
            target->i = items[1]->s[0];
        }
        break;
      }
      case 'C':  // SHORT_BINBYTES
        push_string(bytes(byte()));
        break;
      case 'B':  // BINBYTES
        push_string(bytes(read<uint32_t>()));
        break;
      case 0x8e:  // BINBYTES8
        push_string(bytes(read<uint64_t>()));
        break;
      case 'Q':
        stack_.push_back(persistent_load(pop()));
        break;  // BINPERSID
      default: {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", op);
        throw Error(std::string("unsupported pickle opcode ") + hex + " at byte " +
                    std::to_string(pos_ - 1));
      }
    }
  }
}

// The tensors of a (possibly wrapped) state dict: a dict of tensors, or a dict whose
// "state_dict" or "model" entry is one (what training scripts often save).
NamedTensors collect(const PyObj* root, int wrappers = 0) {
  if (root->kind != PyObj::Kind::kDict)
    throw Error("the checkpoint does not hold a dict of tensors");
  if (wrappers < 4) {
    for (const auto& [key, value] : root->dict) {
      if ((key->s == "state_dict" || key->s == "model") && value->kind == PyObj::Kind::kDict)
        return collect(value, wrappers + 1);
    }
  }
  NamedTensors out;
  for (const auto& [key, value] : root->dict) {
    if (key->kind != PyObj::Kind::kString) continue;
    const PyObj* v = value;
    // Paddle pickles a tensor outside a state dict as (its name, its array).
    if (v->kind == PyObj::Kind::kTuple && v->items.size() == 2) v = v->items[1];
    if ((v->kind == PyObj::Kind::kTensor || v->kind == PyObj::Kind::kArray) && v->tensor.defined())
      out.emplace_back(key->s, v->tensor);
  }
  if (out.empty()) throw Error("the checkpoint holds no tensors");
  return out;
}

// A zip archive read from memory, never past its end.
class MemoryArchive final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit MemoryArchive(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  std::span<const uint8_t> bytes_;
};

NamedTensors parse_zip(std::span<const uint8_t> bytes) {
  caffe2::serialize::PyTorchStreamReader reader(std::make_shared<MemoryArchive>(bytes));
  if (reader.hasRecord("byteorder")) {
    auto [data, size] = reader.getRecord("byteorder");
    const std::string order(static_cast<const char*>(data.get()), size);
    if (order != "little") throw Error("big-endian checkpoints are not supported");
  }
  auto [pickle, pickle_size] = reader.getRecord("data.pkl");
  Unpickler unpickler(std::span(static_cast<const uint8_t*>(pickle.get()), pickle_size),
                      [&](const std::string& key, at::ScalarType dtype, int64_t numel) {
                        const std::string record = "data/" + key;
                        if (!reader.hasRecord(record))
                          throw Error("storage " + key + " is missing from the archive");
                        // Sized from the archive's record, not from the pickle's claim.
                        auto [data, size] = reader.getRecord(record);
                        if (size != static_cast<std::size_t>(numel) * at::elementSize(dtype))
                          throw Error("storage " + key + " has the wrong size");
                        at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
                        if (size > 0) std::memcpy(t.data_ptr(), data.get(), size);
                        return t;
                      });
  return collect(unpickler.load());
}

// Before PyTorch 1.6: pickles of (magic, protocol, sys info, the object, storage keys), then
// for each storage key in that order: an int64 element count and the raw bytes.
NamedTensors parse_legacy(std::span<const uint8_t> file) {
  std::map<std::string, at::Tensor> storages;
  std::size_t offset = 0;
  // Each pickle's objects live as long as its unpickler; the root's are needed to the end.
  std::vector<std::unique_ptr<Unpickler>> unpicklers;
  auto next_pickle = [&](StorageLoader loader) {
    unpicklers.push_back(std::make_unique<Unpickler>(file.subspan(offset), std::move(loader)));
    const PyObj* o = unpicklers.back()->load();
    offset += unpicklers.back()->position();
    return o;
  };
  const StorageLoader no_storage = [](const std::string&, at::ScalarType, int64_t) -> at::Tensor {
    throw Error("unexpected storage");
  };
  const PyObj* magic = next_pickle(no_storage);
  if (magic->kind != PyObj::Kind::kInt) throw Error("not a PyTorch checkpoint");
  next_pickle(no_storage);  // protocol version
  next_pickle(no_storage);  // sys info
  // Storages are filled in after the object: allocate now (no larger than what the file can
  // still hold), read the bytes below.
  const PyObj* root = next_pickle([&](const std::string& key, at::ScalarType dtype, int64_t numel) {
    if (static_cast<uint64_t>(numel) > (file.size() - offset) / at::elementSize(dtype))
      throw Error("storage " + key + " is larger than the file");
    at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
    storages.emplace(key, t);
    return t;
  });
  const PyObj* keys = next_pickle(no_storage);
  for (const PyObj* key : tuple_items(keys, "the storage keys")) {
    const auto it = storages.find(key->s);
    if (it == storages.end()) throw Error("storage " + key->s + " is not referenced");
    if (file.size() - offset < 8) throw Error("checkpoint ends before storage " + key->s);
    int64_t numel = 0;
    std::memcpy(&numel, file.data() + offset, 8);
    offset += 8;
    const std::size_t bytes = it->second.nbytes();
    if (numel != it->second.numel() || bytes > file.size() - offset)
      throw Error("storage " + key->s + " is truncated");
    if (bytes > 0) std::memcpy(it->second.data_ptr(), file.data() + offset, bytes);
    offset += bytes;
  }
  return collect(root);
}

}  // namespace

NamedTensors parse_torch_state_dict(std::span<const uint8_t> bytes, const std::string& name) {
  try {
    if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\x03\x04", 4) == 0)
      return parse_zip(bytes);
    {
      // paddle.save: one pickle of a dict whose arrays carry their data inline. The legacy
      // PyTorch format starts with a pickled number instead.
      Unpickler first(bytes, [](const std::string&, at::ScalarType, int64_t) -> at::Tensor {
        throw Error("unexpected storage");
      });
      const PyObj* root = first.load();
      if (root->kind == PyObj::Kind::kDict) return collect(root);
    }
    return parse_legacy(bytes);
  } catch (const Error& e) {
    throw Error(ErrorLocation{.file = name}, "cannot read checkpoint: " + e.message());
  } catch (const c10::Error& e) {
    throw Error(ErrorLocation{.file = name},
                std::string("cannot read checkpoint: ") + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw Error(ErrorLocation{.file = name}, "cannot read checkpoint: out of memory");
  }
}

NamedTensors load_torch_state_dict(const std::string& path) {
  return parse_torch_state_dict(read_file_bytes(path), path);
}

}  // namespace mrcnn::io

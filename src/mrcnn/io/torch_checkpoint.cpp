#include "mrcnn/io/torch_checkpoint.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "mrcnn/common/error.h"
#include "mrcnn/io/image.h"

namespace mrcnn::io {
namespace {

// The Python objects a state dict pickle is made of.
struct PyObj;
using Obj = std::shared_ptr<PyObj>;
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
    kMark
  };
  Kind kind = Kind::kNone;
  int64_t i = 0;
  double f = 0;
  std::string s;                          // string, or "module.name" of a global
  std::vector<Obj> items;                 // tuple, list
  std::vector<std::pair<Obj, Obj>> dict;  // in insertion order
  at::Tensor tensor;                      // tensor, or a storage as a flat tensor
};

Obj make(PyObj::Kind kind) {
  auto o = std::make_shared<PyObj>();
  o->kind = kind;
  return o;
}

at::ScalarType storage_dtype(const std::string& type) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"torch.FloatStorage", at::kFloat}, {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},   {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},   {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort}, {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},   {"torch.BoolStorage", at::kBool}};
  const auto it = kTypes.find(type);
  if (it == kTypes.end()) throw Error("unsupported storage type " + type);
  return it->second;
}

// Loads the storage with this key as a flat tensor of `numel` elements.
using StorageLoader =
    std::function<at::Tensor(const std::string& key, at::ScalarType dtype, int64_t numel)>;

class Unpickler {
 public:
  Unpickler(const uint8_t* data, std::size_t size, StorageLoader loader)
      : data_(data), size_(size), loader_(std::move(loader)) {}

  std::size_t position() const { return pos_; }
  Obj load();

 private:
  uint8_t byte() {
    need(1);
    return data_[pos_++];
  }
  void need(std::size_t n) const {
    if (pos_ + n > size_) throw Error("pickle ends unexpectedly at byte " + std::to_string(pos_));
  }
  template <class T>
  T read() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string bytes(std::size_t n) {
    need(n);
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  std::string line() {
    std::string out;
    for (uint8_t c; (c = byte()) != '\n';) out.push_back(static_cast<char>(c));
    return out;
  }
  Obj pop() {
    if (stack_.empty()) throw Error("malformed pickle: stack underflow");
    Obj o = stack_.back();
    stack_.pop_back();
    return o;
  }
  std::vector<Obj> pop_to_mark() {
    std::vector<Obj> items;
    while (true) {
      Obj o = pop();
      if (o->kind == PyObj::Kind::kMark) break;
      items.push_back(o);
    }
    return {items.rbegin(), items.rend()};
  }
  void push_int(int64_t v) {
    Obj o = make(PyObj::Kind::kInt);
    o->i = v;
    stack_.push_back(o);
  }
  void push_string(std::string s) {
    Obj o = make(PyObj::Kind::kString);
    o->s = std::move(s);
    stack_.push_back(o);
  }
  void push_global(const std::string& module, const std::string& name) {
    Obj o = make(PyObj::Kind::kGlobal);
    o->s = module + "." + name;
    stack_.push_back(o);
  }
  Obj reduce(const Obj& callable, const Obj& args);
  Obj persistent_load(const Obj& pid);

  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  StorageLoader loader_;
  std::vector<Obj> stack_;
  std::unordered_map<int64_t, Obj> memo_;
  std::unordered_map<std::string, at::Tensor> storages_;
};

Obj Unpickler::persistent_load(const Obj& pid) {
  // ('storage', storage_type, key, location, numel[, view_metadata])
  if (pid->kind != PyObj::Kind::kTuple || pid->items.size() < 5 || pid->items[0]->s != "storage") {
    throw Error("unsupported persistent id in checkpoint");
  }
  const at::ScalarType dtype = storage_dtype(pid->items[1]->s);
  const std::string key = pid->items[2]->s;
  const int64_t numel = pid->items[4]->i;
  auto it = storages_.find(key);
  if (it == storages_.end()) it = storages_.emplace(key, loader_(key, dtype, numel)).first;
  Obj o = make(PyObj::Kind::kStorage);
  o->tensor = it->second;
  return o;
}

Obj Unpickler::reduce(const Obj& callable, const Obj& args) {
  const std::string& name = callable->s;
  if (name == "collections.OrderedDict") return make(PyObj::Kind::kDict);
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
    // (storage, storage_offset, size, stride, ...)
    const auto& a = args->items;
    if (a.size() < 4 || a[0]->kind != PyObj::Kind::kStorage)
      throw Error("malformed tensor in checkpoint");
    std::vector<int64_t> sizes, strides;
    for (const auto& v : a[2]->items) sizes.push_back(v->i);
    for (const auto& v : a[3]->items) strides.push_back(v->i);
    Obj o = make(PyObj::Kind::kTensor);
    o->tensor = a[0]->tensor.as_strided(sizes, strides, a[1]->i);
    return o;
  }
  if (name == "torch._utils._rebuild_parameter") return args->items.at(0);
  throw Error("unsupported object '" + name + "' in checkpoint (only tensors and dicts are read)");
}

Obj Unpickler::load() {
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
        Obj o = make(K::kBool);
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
        int64_t v = 0;  // wider integers (the legacy format's magic number) keep their low bits
        for (uint8_t k = 0; k < n; ++k) {
          const uint8_t b = byte();
          if (k < 8) v |= int64_t(b) << (8 * k);
        }
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v -= int64_t(1) << (8 * n);  // sign
        push_int(v);
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | byte();
        Obj o = make(K::kFloat);
        std::memcpy(&o->f, &bits, 8);
        stack_.push_back(o);
        break;
      }
      case 'X':
        push_string(bytes(read<uint32_t>()));
        break;  // BINUNICODE
      case 0x8c:
        push_string(bytes(byte()));
        break;  // SHORT_BINUNICODE
      case 'T':
        push_string(bytes(read<uint32_t>()));
        break;  // BINSTRING
      case 'U':
        push_string(bytes(byte()));
        break;     // SHORT_BINSTRING
      case 'c': {  // GLOBAL
        const std::string module = line();
        push_global(module, line());
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const Obj name = pop();
        const Obj module = pop();
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
      case 't': {
        Obj o = make(K::kTuple);
        o->items = pop_to_mark();
        stack_.push_back(o);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        Obj o = make(K::kTuple);
        o->items.resize(op - 0x84);
        for (auto it = o->items.rbegin(); it != o->items.rend(); ++it) *it = pop();
        stack_.push_back(o);
        break;
      }
      case 'a': {  // APPEND
        Obj v = pop();
        stack_.back()->items.push_back(v);
        break;
      }
      case 'e': {  // APPENDS
        auto values = pop_to_mark();
        auto& list = stack_.back()->items;
        list.insert(list.end(), values.begin(), values.end());
        break;
      }
      case 's': {  // SETITEM
        Obj v = pop();
        Obj k = pop();
        stack_.back()->dict.emplace_back(k, v);
        break;
      }
      case 'u': {  // SETITEMS
        auto kv = pop_to_mark();
        if (kv.size() % 2) throw Error("malformed pickle: odd SETITEMS");
        for (std::size_t k = 0; k < kv.size(); k += 2)
          stack_.back()->dict.emplace_back(kv[k], kv[k + 1]);
        break;
      }
      case 'q':
        memo_[byte()] = stack_.back();
        break;  // BINPUT
      case 'r':
        memo_[read<uint32_t>()] = stack_.back();
        break;  // LONG_BINPUT
      case 0x94:
        memo_[int64_t(memo_.size())] = stack_.back();
        break;  // MEMOIZE
      case 'h':
      case 'j': {  // BINGET, LONG_BINGET
        const int64_t key = op == 'h' ? byte() : read<uint32_t>();
        const auto it = memo_.find(key);
        if (it == memo_.end()) throw Error("malformed pickle: unknown memo key");
        stack_.push_back(it->second);
        break;
      }
      case 'R': {  // REDUCE
        Obj args = pop();
        Obj callable = pop();
        stack_.push_back(reduce(callable, args));
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        Obj args = pop();
        Obj cls = pop();
        stack_.push_back(reduce(cls, args));
        break;
      }
      case 'b':
        pop();
        break;  // BUILD: object state (a state dict's _metadata) is not needed
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

// The tensors of a (possibly wrapped) state dict.
NamedTensors collect(const Obj& root) {
  if (root->kind != PyObj::Kind::kDict)
    throw Error("the checkpoint does not hold a dict of tensors");
  for (const auto& [key, value] : root->dict) {
    if ((key->s == "state_dict" || key->s == "model") && value->kind == PyObj::Kind::kDict)
      return collect(value);
  }
  NamedTensors out;
  for (const auto& [key, value] : root->dict) {
    if (key->kind == PyObj::Kind::kString && value->kind == PyObj::Kind::kTensor)
      out.emplace_back(key->s, value->tensor);
  }
  if (out.empty()) throw Error("the checkpoint holds no tensors");
  return out;
}

NamedTensors load_zip(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  if (reader.hasRecord("byteorder")) {
    auto [data, size] = reader.getRecord("byteorder");
    const std::string order(static_cast<const char*>(data.get()), size);
    if (order != "little") throw Error("big-endian checkpoints are not supported");
  }
  auto [pickle, pickle_size] = reader.getRecord("data.pkl");
  Unpickler unpickler(static_cast<const uint8_t*>(pickle.get()), pickle_size,
                      [&](const std::string& key, at::ScalarType dtype, int64_t numel) {
                        auto [data, size] = reader.getRecord("data/" + key);
                        at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
                        if (size != static_cast<std::size_t>(t.nbytes()))
                          throw Error("storage " + key + " has the wrong size");
                        std::memcpy(t.data_ptr(), data.get(), size);
                        return t;
                      });
  return collect(unpickler.load());
}

// Before PyTorch 1.6: pickles of (magic, protocol, sys info, the object, storage keys), then
// for each storage key in that order: an int64 element count and the raw bytes.
NamedTensors load_legacy(const std::string& path) {
  const std::vector<uint8_t> file = read_file_bytes(path);
  struct Pending {
    at::Tensor tensor;
  };
  std::map<std::string, at::Tensor> storages;
  std::size_t offset = 0;
  auto next_pickle = [&](const StorageLoader& loader) {
    Unpickler u(file.data() + offset, file.size() - offset, loader);
    Obj o = u.load();
    offset += u.position();
    return o;
  };
  const StorageLoader no_storage = [](const std::string&, at::ScalarType, int64_t) -> at::Tensor {
    throw Error("unexpected storage");
  };
  const Obj magic = next_pickle(no_storage);
  if (magic->kind != PyObj::Kind::kInt) throw Error("not a PyTorch checkpoint");
  next_pickle(no_storage);  // protocol version
  next_pickle(no_storage);  // sys info
  // Storages are filled in after the object: allocate now, read the bytes below.
  const Obj root = next_pickle([&](const std::string& key, at::ScalarType dtype, int64_t numel) {
    at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
    storages.emplace(key, t);
    return t;
  });
  const Obj keys = next_pickle(no_storage);
  for (const auto& key : keys->items) {
    const auto it = storages.find(key->s);
    if (it == storages.end()) throw Error("storage " + key->s + " is not referenced");
    if (offset + 8 > file.size()) throw Error("checkpoint ends before storage " + key->s);
    int64_t numel = 0;
    std::memcpy(&numel, file.data() + offset, 8);
    offset += 8;
    const std::size_t bytes = it->second.nbytes();
    if (numel != it->second.numel() || offset + bytes > file.size())
      throw Error("storage " + key->s + " is truncated");
    std::memcpy(it->second.data_ptr(), file.data() + offset, bytes);
    offset += bytes;
  }
  return collect(root);
}

}  // namespace

NamedTensors load_torch_state_dict(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw Error(ErrorLocation{.file = path}, "cannot open checkpoint");
  char magic[4] = {};
  probe.read(magic, 4);
  try {
    if (std::memcmp(magic, "PK\x03\x04", 4) == 0) return load_zip(path);
    return load_legacy(path);
  } catch (const Error& e) {
    throw Error(ErrorLocation{.file = path}, "cannot read checkpoint: " + e.message());
  } catch (const c10::Error& e) {
    throw Error(ErrorLocation{.file = path},
                std::string("cannot read checkpoint: ") + e.what_without_backtrace());
  }
}

}  // namespace mrcnn::io

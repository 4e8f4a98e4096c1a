// The translation unit that builds the precompiled header (pch.h) the LibTorch layers reuse.

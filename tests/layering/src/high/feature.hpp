// Test fixture.
#pragma once
#include "low/thing.hpp"

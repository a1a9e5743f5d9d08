// Test fixture: a low folder that includes a high one.
#pragma once
#include "high/feature.hpp"

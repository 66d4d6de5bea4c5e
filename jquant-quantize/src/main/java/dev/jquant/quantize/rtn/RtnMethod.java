package dev.jquant.quantize.rtn;

import dev.jquant.quantize.BlockJob;
import dev.jquant.quantize.GridPlan;
import dev.jquant.quantize.QuantMethod;
import dev.jquant.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/** Round to nearest, calibration-free: the baseline every other method must beat. */
public final class RtnMethod implements QuantMethod {

    @Override
    public String name() {
        return "rtn";
    }

    @Override
    public CalibrationNeeds needs() {
        return CalibrationNeeds.NONE;
    }

    @Override
    public Map<String, Tensor> quantizeBlock(BlockJob job) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String s : GridPlan.LINEARS) {
            out.put(job.name(s), job.roundToNearest(s));
        }
        return out;
    }
}
